/** File names for downloads: "<original name> - <track label>.wav", safe on every OS. */
export function trackFileName(inputName: string, label: string, ext = 'wav'): string {
  const base = inputName.replace(/\.[^./\\]+$/, '');
  const safe = `${base} - ${label}`.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').trim();
  return `${safe.slice(0, 180)}.${ext}`;
}

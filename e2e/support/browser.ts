/** How e2e tests start Debian's Chromium: every request goes through the egress proxy. */
// E2E_*_PORT let a second run (another engineer's, on the same machine) use its own ports.
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
export const APP_PORT = port('E2E_APP_PORT', 4173);
/** A second server for builds we alter on purpose (the tampered-model test). */
export const TAMPER_PORT = port('E2E_TAMPER_PORT', 4174);
export const PROXY_PORT = port('E2E_PROXY_PORT', 4199);

export const ALLOWED_HOSTS = [`localhost:${APP_PORT}`, `localhost:${TAMPER_PORT}`];
export const ALLOWED_ORIGINS = ALLOWED_HOSTS.map((h) => `http://${h}`);

/**
 * Chromium itself (not the page) still calls these Google services from the
 * browser process despite the background-networking flags. The proxy
 * tolerates them only because a second check sees every request any app
 * context (page, workers, service worker) makes and allows none of them.
 */
export const CHROMIUM_INTERNAL_HOSTS = ['accounts.google.com', 'update.googleapis.com', 'clients2.google.com', 'clientservices.googleapis.com', 'redirector.gvt1.com', 'edgedl.me.gvt1.com', 'optimizationguide-pa.googleapis.com', 'content-autofill.googleapis.com', 'safebrowsing.googleapis.com'];

export function chromiumArgs(extra: string[] = []): string[] {
  return [
    '--no-sandbox',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // Route everything, loopback included, through the recording proxy.
    `--proxy-server=http://127.0.0.1:${PROXY_PORT}`,
    '--proxy-bypass-list=<-loopback>',
    ...extra,
  ];
}

/** The export stage: tracks → WAV files (at 16 kHz or the original rate) → one file or a zip. */
import { encodeWav16 } from '../features/export/wav';
import { resample } from '../features/export/resample';
import { zipFiles } from '../features/export/zip';
import { trackFileName } from '../features/export/names';
import { toVoxError } from '../lib/errors';
import type { SeparatedTrack } from './sinks/memory-sink';

export interface ExportedFile {
  name: string;
  bytes: Uint8Array<ArrayBuffer>;
  type: string;
}

export async function exportTrack(track: SeparatedTrack, inputName: string, rate: number): Promise<ExportedFile> {
  try {
    const samples = await resample(track.samples, track.sampleRate, rate);
    return { name: trackFileName(inputName, track.source.label), bytes: encodeWav16(samples, rate), type: 'audio/wav' };
  } catch (e) {
    throw toVoxError(e, 'export-failed');
  }
}

export async function exportAll(tracks: SeparatedTrack[], inputName: string, rate: number): Promise<ExportedFile> {
  const files: Record<string, Uint8Array> = {};
  for (const t of tracks) {
    const f = await exportTrack(t, inputName, rate);
    files[f.name] = f.bytes;
  }
  try {
    return { name: trackFileName(inputName, 'separated', 'zip'), bytes: await zipFiles(files), type: 'application/zip' };
  } catch (e) {
    throw toVoxError(e, 'export-failed');
  }
}

/** Hands a file to the browser's download manager; nothing is sent anywhere. */
export function saveFile(file: ExportedFile): void {
  const url = URL.createObjectURL(new Blob([file.bytes], { type: file.type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The export stage: a track as a WAV (16 kHz or the original rate), or all of
 * them as a zip. Nothing here holds a track in memory: at 16 kHz the download
 * is the track's own file; other rates and the zip are streamed by the
 * storage worker into the job's OPFS folder (or into a Blob when the job runs
 * in memory) and handed to the browser from there.
 */
import * as Comlink from 'comlink';
import { trackFileName } from '../features/export/names';
import { storageCall } from '../features/storage/client';
import { toVoxError } from '../lib/errors';
import type { SeparatedTrack, TrackStorage } from './sinks/track-sink';

export interface ExportedFile {
  name: string;
  blob: Blob;
}

/** 0..1 while a download is being prepared. */
export type ExportProgress = (fraction: number) => void;

const proxied = (onProgress?: ExportProgress) => (onProgress ? Comlink.proxy(onProgress) : undefined);

export async function exportTrack(track: SeparatedTrack, storage: TrackStorage, inputName: string, rate: number, onProgress?: ExportProgress): Promise<ExportedFile> {
  const name = trackFileName(inputName, track.source.label);
  if (rate === track.sampleRate) return { name, blob: track.wav };
  try {
    const blob = await storageCall('export-failed', (a) => a.exportWav(storage.jobId, `${track.source.index}-${rate}.wav`, track.wav, rate, proxied(onProgress)));
    return { name, blob };
  } catch (e) {
    throw toVoxError(e, 'export-failed');
  }
}

export async function exportAll(tracks: SeparatedTrack[], storage: TrackStorage, inputName: string, rate: number, onProgress?: ExportProgress): Promise<ExportedFile> {
  const entries = tracks.map((t) => ({ name: trackFileName(inputName, t.source.label), src: t.wav }));
  try {
    const blob = await storageCall('export-failed', (a) => a.exportZip(storage.jobId, `all-${rate}.zip`, entries, rate, proxied(onProgress)));
    return { name: trackFileName(inputName, 'separated', 'zip'), blob };
  } catch (e) {
    throw toVoxError(e, 'export-failed');
  }
}

/**
 * Hands a file to the browser's download manager; nothing is sent anywhere.
 * A disk-backed Blob stays on disk: the browser copies it to Downloads itself.
 */
export function saveFile(file: ExportedFile): void {
  const url = URL.createObjectURL(file.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = file.name;
  document.body.append(a);
  a.click();
  a.remove();
  // The download holds its own reference once started; a minute covers a slow start.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

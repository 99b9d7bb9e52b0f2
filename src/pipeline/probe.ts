/**
 * The probe stage: everything the app learns about a file before the user
 * presses Separate. Cheap checks first (size, magic bytes: no worker, no wasm),
 * then ffprobe in the decode worker (streams, duration, truncation, limits).
 * Every rejection is a VoxError with its own message.
 */
import { checkBeforeDecode } from '../features/decode/sniff';
import type { DecodeClient } from '../features/decode/client';
import type { Limits } from '../lib/limits';
import type { MediaFacts } from './types';

export async function probeStage(file: File, limits: Limits, decodeClient: Pick<DecodeClient, 'probe'>): Promise<MediaFacts> {
  const container = await checkBeforeDecode(file, limits);
  return decodeClient.probe(file, container, limits);
}

/**
 * Picks the sink for a job: OPFS whenever this browser has it (one path for a
 * clip and for a lecture), memory otherwise, with a note the results view
 * shows. A job whose sink cannot be opened on disk (no quota left) still runs
 * in memory: short inputs fit, and the note tells why long ones may not.
 */
import type { SourceSpec } from '../../features/model/manifest';
import { opfsAvailable } from '../../features/storage/client';
import { toVoxError } from '../../lib/errors';
import { MemorySink } from './memory-sink';
import { OpfsSink } from './opfs-sink';
import type { TrackSink } from './track-sink';

/** `?sink=memory` forces the fallback: to test it, and to compare the two sinks' memory. */
const forcedMemory = () => typeof location !== 'undefined' && new URLSearchParams(location.search).get('sink') === 'memory';

export async function openTrackSink(sources: SourceSpec[], expectedFrames: number): Promise<TrackSink> {
  if (forcedMemory()) return new MemorySink(sources, 'The tracks are kept in memory (?sink=memory).');
  if (!(await opfsAvailable())) {
    return new MemorySink(sources, 'This browser gives the app no private file storage (OPFS), so the tracks are kept in memory: very long recordings may not fit.');
  }
  try {
    return await OpfsSink.open(sources, expectedFrames);
  } catch (e) {
    const v = toVoxError(e);
    console.warn('Tracks go to memory: the OPFS sink could not be opened.', v);
    return new MemorySink(sources, `The tracks could not be stored on disk (${v.detail ?? v.title}), so they are kept in memory: very long recordings may not fit.`);
  }
}

/**
 * Workers are cancelled by terminating them, and a call to a terminated
 * comlink worker never settles: every await on a worker goes through this.
 */
import { VoxError } from './errors';

export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new VoxError('cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new VoxError('cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

import { zip, type Zippable } from 'fflate';

/** WAV barely compresses; level 0 keeps "Download all" fast on long recordings. */
export function zipFiles(files: Record<string, Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const input: Zippable = {};
  for (const [name, data] of Object.entries(files)) input[name] = [data, { level: 0 }];
  return new Promise((resolve, reject) => zip(input, (err, out) => (err ? reject(err) : resolve(out as Uint8Array<ArrayBuffer>))));
}

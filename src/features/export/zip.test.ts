import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { ZipStream } from './zip';

function collect(): { chunks: Uint8Array[]; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    chunks,
    bytes() {
      const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
  };
}

/** -1 when equal; else the first index that differs (toEqual on 100k-element arrays is slow). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('ZipStream', () => {
  it('stores every entry byte for byte, pushed in pieces, and writes as it goes', () => {
    const a = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251);
    const b = new TextEncoder().encode('second');
    const out = collect();
    const zip = new ZipStream((c) => out.chunks.push(c.slice()));
    const ea = zip.entry('a.wav');
    for (let at = 0; at < a.length; at += 65_536) ea.push(a.subarray(at, at + 65_536));
    // Output flowed before the entry ended: nothing waits for the whole file.
    const before = zip.written;
    expect(before).toBeGreaterThan(200_000);
    ea.end();
    const eb = zip.entry('b.wav');
    eb.push(b);
    eb.end();
    zip.finish();
    expect(zip.written).toBe(out.bytes().length);
    const files = unzipSync(out.bytes());
    expect(Object.keys(files).sort()).toEqual(['a.wav', 'b.wav']);
    expect(firstDifference(files['a.wav'], a)).toBe(-1);
    expect(files['b.wav']).toEqual(b);
    // Stored, not deflated: the archive is the data plus small headers.
    expect(zip.written - a.length - b.length).toBeLessThan(500);
  });

  it('passes each piece on before push() returns, so pieces may be views of one reused buffer', () => {
    const out = collect();
    const zip = new ZipStream((c) => out.chunks.push(c.slice()));
    const reused = new Uint8Array(1000);
    for (const name of ['one', 'two']) {
      const e = zip.entry(name);
      for (let k = 0; k < 5; k++) {
        reused.fill(k + (name === 'two' ? 10 : 0));
        e.push(reused);
      }
      e.end();
    }
    zip.finish();
    const files = unzipSync(out.bytes());
    expect(Array.from(new Set(files.one))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(new Set(files.two))).toEqual([10, 11, 12, 13, 14]);
  });

  it('refuses overlapping entries and an unfinished archive', () => {
    const zip = new ZipStream(() => {});
    zip.entry('a');
    expect(() => zip.entry('b')).toThrow(/still open/);
    expect(() => zip.finish()).toThrow(/still open/);
  });
});

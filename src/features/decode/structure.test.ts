import { describe, expect, it } from 'vitest';
import { blobReader, findTruncation, type ReadRange } from './structure';

const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const enc = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const box = (type: string, len: number, fill = len) => [...be32(len), ...enc(type), ...new Array(Math.max(0, fill - 8)).fill(0)];

function reader(bytes: number[]): { read: ReadRange; size: number; reads: number } {
  const data = new Uint8Array(bytes);
  const r = { reads: 0, size: data.length, read: (async () => new Uint8Array()) as ReadRange };
  r.read = async (a, b) => {
    r.reads++;
    return data.slice(a, Math.min(b, data.length));
  };
  return r;
}

describe('findTruncation: ISO-BMFF (mp4, m4a, mov)', () => {
  it('accepts a complete file', async () => {
    const r = reader([...box('ftyp', 24), ...box('moov', 100), ...box('mdat', 400)]);
    expect(await findTruncation(r.read, r.size, 'mp4')).toBeNull();
  });
  it('finds an mdat cut in half (index at the end, so ffmpeg would only say "moov atom not found")', async () => {
    const r = reader([...box('ftyp', 24), ...box('mdat', 4000, 2000)]);
    const why = await findTruncation(r.read, r.size, 'mp4');
    expect(why).toContain('“mdat” box is cut off');
    expect(why).toContain('3.9 KiB');
  });
  it('finds a cut after the index (faststart)', async () => {
    const r = reader([...box('ftyp', 24), ...box('moov', 100), ...box('mdat', 4000, 1000)]);
    expect(await findTruncation(r.read, r.size, 'mov')).toContain('mdat');
  });
  it('reads 64-bit box sizes', async () => {
    const big = [...be32(1), ...enc('mdat'), ...be32(1), ...be32(0)]; // 2^32 bytes claimed
    const r = reader([...box('ftyp', 24), ...big, ...new Array(100).fill(0)]);
    expect(await findTruncation(r.read, r.size, 'mp4')).toContain('4.0 GiB');
  });
  it('gives up (null) on size 0 ("to the end") and on bytes that are not box headers', async () => {
    const toEnd = reader([...box('ftyp', 24), ...be32(0), ...enc('mdat'), 1, 2, 3]);
    expect(await findTruncation(toEnd.read, toEnd.size, 'mp4')).toBeNull();
    const garbage = reader([...box('ftyp', 24), 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, ...new Array(50).fill(7)]);
    expect(await findTruncation(garbage.read, garbage.size, 'mp4')).toBeNull();
  });
  it('reads only box headers, a bounded number of them', async () => {
    const many: number[] = [];
    for (let i = 0; i < 1000; i++) many.push(...box('moof', 16));
    const r = reader([...box('ftyp', 24), ...many]);
    expect(await findTruncation(r.read, r.size, 'mp4')).toBeNull();
    expect(r.reads).toBeLessThanOrEqual(256);
  });
});

describe('findTruncation: WAV', () => {
  const wav = (riffSize: number, actual: number) => [...enc('RIFF'), ...le32(riffSize), ...enc('WAVE'), ...new Array(actual - 12).fill(0)];
  it('accepts a complete file (and a pad byte of slack)', async () => {
    const r = reader(wav(1000 - 8, 1000));
    expect(await findTruncation(r.read, r.size, 'wav')).toBeNull();
    const odd = reader(wav(1001 - 8, 1000));
    expect(await findTruncation(odd.read, odd.size, 'wav')).toBeNull();
  });
  it('finds a cut-off file', async () => {
    const r = reader(wav(100_000 - 8, 50_000));
    expect(await findTruncation(r.read, r.size, 'wav')).toMatch(/98 KiB long, but only 49 KiB are present/);
  });
  it('ignores the sizes streaming writers leave unset', async () => {
    for (const unset of [0, 0xffffffff]) {
      const r = reader(wav(unset, 500));
      expect(await findTruncation(r.read, r.size, 'wav')).toBeNull();
    }
  });
});

describe('findTruncation: Matroska / WebM', () => {
  const ebml = [0x1a, 0x45, 0xdf, 0xa3, 0x84, 0x42, 0x82, 0x81, 0x77]; // 4-byte header body
  it('accepts a complete segment', async () => {
    const r = reader([...ebml, 0x18, 0x53, 0x80, 0x67, 0x84, 1, 2, 3, 4]);
    expect(await findTruncation(r.read, r.size, 'webm')).toBeNull();
  });
  it('finds a segment that runs past the end', async () => {
    const r = reader([...ebml, 0x18, 0x53, 0x80, 0x67, 0x42, 0x00, ...new Array(100).fill(0)]); // 2-byte size 0x200
    expect(await findTruncation(r.read, r.size, 'matroska')).toMatch(/cut|long/);
  });
  it('accepts an unknown-size segment (MediaRecorder)', async () => {
    const r = reader([...ebml, 0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 9, 9, 9]);
    expect(await findTruncation(r.read, r.size, 'webm')).toBeNull();
  });
});

describe('findTruncation: other containers', () => {
  it('has no opinion', async () => {
    const r = reader([1, 2, 3]);
    expect(await findTruncation(r.read, r.size, 'mp3')).toBeNull();
    expect(await findTruncation(r.read, r.size, 'ogg')).toBeNull();
  });
  it('blobReader reads ranges of a Blob', async () => {
    const read = blobReader(new Blob([new Uint8Array([1, 2, 3, 4, 5])]));
    expect(Array.from(await read(1, 3))).toEqual([2, 3]);
    expect(Array.from(await read(3, 100))).toEqual([4, 5]);
  });
});

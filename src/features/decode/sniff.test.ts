import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VoxError } from '../../lib/errors';
import { DEFAULT_LIMITS } from '../../lib/limits';
import { checkBeforeDecode, id3TagLength, looksLikeText, sniffContainer, SNIFF_BYTES } from './sniff';

const enc = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
/** Bytes from numbers and ASCII strings, zero-padded to `len`. */
function build(parts: (string | number[])[], len = 256): Uint8Array {
  const out: number[] = [];
  for (const p of parts) out.push(...(typeof p === 'string' ? enc(p) : p));
  while (out.length < len) out.push(0);
  return new Uint8Array(out);
}
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** Deterministic pseudo-random bytes (mulberry32). */
function randomBytes(n: number, seed: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 255;
  }
  return out;
}

/** MPEG-1 layer III, 128 kb/s, 44.1 kHz frames: 417 bytes each. */
function mp3Frames(count: number, lead: number[] = []): Uint8Array {
  const frame = new Uint8Array(417);
  frame.set([0xff, 0xfb, 0x90, 0x00]);
  const out = new Uint8Array(lead.length + 417 * count);
  out.set(lead);
  for (let i = 0; i < count; i++) out.set(frame, lead.length + i * 417);
  return out;
}

/** ADTS AAC-LC frames, 44.1 kHz stereo, 200 bytes each. */
function adtsFrames(count: number): Uint8Array {
  const L = 200;
  const frame = new Uint8Array(L);
  frame.set([0xff, 0xf1, 0x50, 0x80 | ((L >> 11) & 3), (L >> 3) & 0xff, ((L & 7) << 5) | 0x1f, 0xfc]);
  const out = new Uint8Array(L * count);
  for (let i = 0; i < count; i++) out.set(frame, i * L);
  return out;
}

function id3(bodyLen: number): number[] {
  return [...enc('ID3'), 4, 0, 0, (bodyLen >> 21) & 127, (bodyLen >> 14) & 127, (bodyLen >> 7) & 127, bodyLen & 127];
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('sniffContainer: formats from magic bytes', () => {
  const cases: [string, Uint8Array, string][] = [
    ['RIFF/WAVE', build(['RIFF', be32(1000).reverse(), 'WAVEfmt ']), 'wav'],
    ['RF64/WAVE', build(['RF64', [255, 255, 255, 255], 'WAVEds64']), 'wav'],
    ['RIFF/AVI', build(['RIFF', [0, 0, 1, 0], 'AVI LIST']), 'avi'],
    ['Sony Wave64', build(['riff', [0x2e, 0x91, 0xcf, 0x11, 0xa5, 0xd6, 0x28, 0xdb]]), 'w64'],
    ['AIFF', build(['FORM', [0, 0, 1, 0], 'AIFFCOMM']), 'aiff'],
    ['AIFF-C', build(['FORM', [0, 0, 1, 0], 'AIFCFVER']), 'aiff'],
    ['CAF', build(['caff', [0, 1, 0, 0], 'desc']), 'caf'],
    ['AMR-NB', build(['#!AMR\n', [0x3c]]), 'amr'],
    ['AMR-WB', build(['#!AMR-WB\n']), 'amr'],
    ['FLAC', build(['fLaC', [0, 0, 0, 34]]), 'flac'],
    ['Ogg', build(['OggS', [0, 2], [0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4], [0, 0, 0, 0], [0, 0, 0, 0], [1, 19], 'OpusHead']), 'ogg'],
    ['WebM', build([[0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84], 'webm']), 'webm'],
    ['Matroska', build([[0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x88], 'matroska']), 'matroska'],
    ['MP4 (isom)', build([be32(32), 'ftypisom', be32(512), 'isomiso2avc1mp41']), 'mp4'],
    ['MP4 (mp42)', build([be32(24), 'ftypmp42', be32(0), 'mp42isom']), 'mp4'],
    ['M4A', build([be32(28), 'ftypM4A ', be32(0), 'M4A mp42isom']), 'm4a'],
    ['MOV (qt brand)', build([be32(20), 'ftypqt  ', be32(0x200), 'qt  ']), 'mov'],
    ['3GP', build([be32(24), 'ftyp3gp4', be32(0), 'isom3gp4']), '3gp'],
    ['QuickTime without ftyp (moov first)', build([be32(1000), 'moovmvhd']), 'mov'],
    ['QuickTime without ftyp (wide atom)', build([be32(8), 'wide', be32(1000), 'mdat']), 'mov'],
    ['ASF / WMA', build([[0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9]]), 'asf'],
    ['FLV', build(['FLV', [1, 5, 0, 0, 0, 9]]), 'flv'],
    ['Sun AU', build(['.snd', be32(24)]), 'au'],
    ['MPEG-PS', build([[0, 0, 1, 0xba, 0x44]]), 'mpeg'],
    ['WavPack', build(['wvpk']), 'wavpack'],
    ['Monkey’s Audio', build(['MAC ']), 'ape'],
    ['TTA', build(['TTA1']), 'tta'],
    ['DSF', build(['DSD ']), 'dsf'],
    ['MP3 (ID3v2)', concat(build([id3(100)], 110), mp3Frames(3)), 'mp3'],
    ['MP3 (ID3v2 longer than the head)', build([id3(100000)], 64), 'mp3'],
    ['MP3 (frame sync)', mp3Frames(4), 'mp3'],
    ['MP3 (frame sync after padding)', mp3Frames(4, [0, 0, 0, 0, 0, 0]), 'mp3'],
    ['MP3 (one frame, short head)', mp3Frames(1).subarray(0, 200), 'mp3'],
    ['FLAC after ID3', concat(build([id3(20)], 30), build(['fLaC'], 64)), 'flac'],
    ['ADTS AAC', adtsFrames(4), 'aac'],
    ['ADTS AAC after ID3', concat(build([id3(20)], 30), adtsFrames(3)), 'aac'],
  ];
  it.each(cases)('%s', (_label, head, want) => {
    expect(sniffContainer(head)).toBe(want);
  });

  it('MPEG-TS: 0x47 every 188 bytes', () => {
    const b = new Uint8Array(188 * 6);
    for (let i = 0; i < 6; i++) b[i * 188] = 0x47;
    expect(sniffContainer(b)).toBe('mpegts');
  });

  it('M2TS: 0x47 every 192 bytes after a 4-byte timecode', () => {
    const b = new Uint8Array(192 * 6);
    for (let i = 0; i < 6; i++) b[4 + i * 192] = 0x47;
    expect(sniffContainer(b)).toBe('mpegts');
  });
});

describe('sniffContainer: what is not media', () => {
  it('returns null for empty and tiny inputs', () => {
    expect(sniffContainer(new Uint8Array(0))).toBeNull();
    expect(sniffContainer(new Uint8Array([0x52, 0x49]))).toBeNull();
  });

  it('returns null for random bytes (500 seeds)', () => {
    const hits: string[] = [];
    for (let seed = 1; seed <= 500; seed++) {
      const got = sniffContainer(randomBytes(SNIFF_BYTES, seed));
      if (got) hits.push(`${seed}:${got}`);
    }
    expect(hits).toEqual([]);
  });

  it.each([
    ['plain text', 'Hello, this is a text file.\nIt has two lines.\n'],
    ['HTML', '<!doctype html><html><head><title>x</title></head></html>'],
    ['JSON', '{"id":"voxsplit","version":"1.0.0"}'],
    ['CSV', 'a,b,c\n1,2,3\n'],
    ['a text file that starts like RIFF but is not WAVE', 'RIFF is a container format family.'],
  ])('returns null for %s', (_label, text) => {
    expect(sniffContainer(new TextEncoder().encode(text.repeat(40)))).toBeNull();
  });

  it.each([
    ['PNG', build([[0x89], 'PNG\r\n', [0x1a, 0x0a]])],
    ['JPEG', build([[0xff, 0xd8, 0xff, 0xe0, 0, 16], 'JFIF'])],
    ['PDF', build(['%PDF-1.7\n'])],
    ['ZIP', build(['PK', [3, 4, 20, 0]])],
    ['HEIC (ISO-BMFF image)', build([be32(24), 'ftypheic', be32(0), 'mif1heic'])],
    ['AVIF (ISO-BMFF image)', build([be32(28), 'ftypavif', be32(0), 'avifmif1miaf'])],
    ['RIFF/WEBP', build(['RIFF', [0, 0, 1, 0], 'WEBPVP8 '])],
    ['a lone MPEG sync word', build([[0xff, 0xfb, 0x90, 0x00]], 2000)],
  ])('returns null for %s', (_label, head) => {
    expect(sniffContainer(head)).toBeNull();
  });
});

describe('helpers', () => {
  it('id3TagLength reads the syncsafe size and the footer flag', () => {
    expect(id3TagLength(build([id3(100)]))).toBe(110);
    const withFooter = build([id3(100)]);
    withFooter[5] = 0x10;
    expect(id3TagLength(withFooter)).toBe(120);
    expect(id3TagLength(build(['ID3', [4, 0, 0, 0x80, 0, 0, 0]]))).toBe(0); // not syncsafe
    expect(id3TagLength(build(['NOTID3']))).toBe(0);
  });

  it('looksLikeText', () => {
    expect(looksLikeText(new TextEncoder().encode('héllo wörld\n'))).toBe(true);
    expect(looksLikeText(randomBytes(512, 7))).toBe(false);
    expect(looksLikeText(new Uint8Array(0))).toBe(false);
  });
});

/** A Blob-like object with any size: never allocates, and fails the test if read. */
function hugeFake(size: number, name = 'huge.mp4'): Blob & { name: string } {
  return {
    name,
    size,
    type: 'video/mp4',
    slice() {
      throw new Error('must not read a file that is over the size limit');
    },
  } as unknown as Blob & { name: string };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(VoxError);
    return (e as VoxError).code;
  }
  return 'resolved';
}

describe('checkBeforeDecode', () => {
  const file = (bytes: Uint8Array, name: string) => new File([bytes as Uint8Array<ArrayBuffer>], name);

  it('returns the container of a good file', async () => {
    await expect(checkBeforeDecode(file(build(['RIFF', [0, 0, 1, 0], 'WAVEfmt ']), 'a.wav'), DEFAULT_LIMITS)).resolves.toBe('wav');
    await expect(checkBeforeDecode(file(mp3Frames(8), 'b.mp3'), DEFAULT_LIMITS)).resolves.toBe('mp3');
  });

  it('rejects an empty file with file-empty', async () => {
    await expect(codeOf(checkBeforeDecode(file(new Uint8Array(0), 'empty.mp4'), DEFAULT_LIMITS))).resolves.toBe('file-empty');
  });

  it('rejects a file over the size limit with file-too-large, naming both sizes, without reading it', async () => {
    const e = await checkBeforeDecode(hugeFake(3 * 1024 ** 3), DEFAULT_LIMITS).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VoxError);
    expect((e as VoxError).code).toBe('file-too-large');
    expect((e as VoxError).detail).toContain('3.0 GiB');
    expect((e as VoxError).detail).toContain('2.0 GiB');
    expect((e as VoxError).detail).toContain('huge.mp4');
  });

  it('honours a custom size limit (the limit itself is allowed)', async () => {
    const wav = build(['RIFF', [0, 0, 1, 0], 'WAVEfmt '], 1000);
    await expect(checkBeforeDecode(file(wav, 'a.wav'), { ...DEFAULT_LIMITS, maxFileBytes: 1000 })).resolves.toBe('wav');
    await expect(codeOf(checkBeforeDecode(file(wav, 'a.wav'), { ...DEFAULT_LIMITS, maxFileBytes: 999 }))).resolves.toBe('file-too-large');
  });

  it('rejects random bytes named .mp4 with file-not-media', async () => {
    await expect(codeOf(checkBeforeDecode(file(randomBytes(100_000, 42), 'random.mp4'), DEFAULT_LIMITS))).resolves.toBe('file-not-media');
  });

  it('rejects a text file with file-not-media and says it looks like text', async () => {
    const e = await checkBeforeDecode(file(new TextEncoder().encode('just some notes\n'.repeat(100)), 'notes.mp3'), DEFAULT_LIMITS).catch((x: unknown) => x);
    expect((e as VoxError).code).toBe('file-not-media');
    expect((e as VoxError).detail).toMatch(/text/);
  });

  it('maps a read failure to file-unreadable', async () => {
    const broken = {
      name: 'gone.wav',
      size: 1000,
      slice: () => ({ arrayBuffer: () => Promise.reject(new DOMException('The file was moved.', 'NotReadableError')) }),
    } as unknown as Blob & { name: string };
    const e = await checkBeforeDecode(broken, DEFAULT_LIMITS).catch((x: unknown) => x);
    expect((e as VoxError).code).toBe('file-unreadable');
    expect((e as VoxError).detail).toContain('NotReadableError');
  });

  it('reads only the head, and past a long ID3 tag', async () => {
    const reads: [number, number][] = [];
    const tagBody = 300_000; // e.g. embedded cover art
    const bytes = concat(build([id3(tagBody)], 10 + tagBody), build(['fLaC', [0, 0, 0, 34]], 64));
    const real = file(bytes, 'tagged.flac');
    const spy = {
      name: real.name,
      size: real.size,
      slice: (a: number, b: number) => {
        reads.push([a, b]);
        return real.slice(a, b);
      },
    } as unknown as File;
    await expect(checkBeforeDecode(spy, DEFAULT_LIMITS)).resolves.toBe('flac');
    expect(reads).toEqual([
      [0, SNIFF_BYTES],
      [10 + tagBody, 10 + tagBody + SNIFF_BYTES],
    ]);
  });
});

/**
 * The same checks on real files written by Debian's ffmpeg (skipped where it is
 * not installed), so the synthetic headers above cannot drift from reality.
 */
const hasFfmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasFfmpeg)('sniffContainer on files written by ffmpeg', () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxsplit-sniff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5'];
  const video = ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=0.5'];
  const cases: [string, string[], string][] = [
    ['a.wav', [...tone], 'wav'],
    ['a.mp3', [...tone, '-c:a', 'libmp3lame'], 'mp3'],
    ['a-noid3.mp3', [...tone, '-c:a', 'libmp3lame', '-write_xing', '0', '-id3v2_version', '0'], 'mp3'],
    ['a.m4a', [...tone, '-c:a', 'aac'], 'm4a'],
    ['a.aac', [...tone, '-c:a', 'aac', '-f', 'adts'], 'aac'],
    ['a.opus', [...tone, '-c:a', 'libopus'], 'ogg'],
    ['a.ogg', [...tone, '-c:a', 'libvorbis'], 'ogg'],
    ['a.flac', [...tone], 'flac'],
    ['a.aiff', [...tone], 'aiff'],
    ['a.caf', [...tone], 'caf'],
    ['a.webm', [...tone, '-c:a', 'libopus'], 'webm'],
    ['a.mkv', [...tone, '-c:a', 'flac'], 'matroska'],
    ['v.mp4', [...video, ...tone, '-c:v', 'mpeg4', '-c:a', 'aac', '-shortest'], 'mp4'],
    ['v.mov', [...video, ...tone, '-c:v', 'mpeg4', '-c:a', 'aac', '-shortest'], 'mov'],
    ['v.ts', [...video, ...tone, '-c:v', 'mpeg2video', '-c:a', 'mp2', '-shortest'], 'mpegts'],
    ['v.avi', [...video, '-c:v', 'mpeg4'], 'avi'],
  ];
  it.each(cases)('%s', (name, args, want) => {
    const out = join(dir, name);
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, out], { stdio: 'ignore' });
    const head = readFileSync(out).subarray(0, SNIFF_BYTES);
    expect(sniffContainer(new Uint8Array(head))).toBe(want);
  });
});

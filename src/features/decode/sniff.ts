/**
 * Cheap checks that run before any heavy work: size limits and container
 * sniffing from magic bytes. Nothing here decodes; it only reads the first few
 * KiB of the file so a 2 GiB video is judged in microseconds.
 */
import { VoxError } from '../../lib/errors';
import { formatBytes, type Limits } from '../../lib/limits';

/** How many bytes `checkBeforeDecode` reads to sniff (and again after an ID3 tag). */
export const SNIFF_BYTES = 4096;

const ascii = (b: Uint8Array, at: number, s: string): boolean => {
  if (at < 0 || at + s.length > b.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
};

const bytes = (b: Uint8Array, at: number, sig: readonly number[]): boolean => {
  if (at < 0 || at + sig.length > b.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
};

const u32be = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** Size of an ID3v2 tag starting at `at` (header + body + optional footer), or 0 when there is none. */
export function id3TagLength(b: Uint8Array, at = 0): number {
  if (!ascii(b, at, 'ID3') || at + 10 > b.length) return 0;
  const major = b[at + 3];
  if (major < 2 || major > 4 || b[at + 4] === 0xff) return 0;
  const sz = [b[at + 6], b[at + 7], b[at + 8], b[at + 9]];
  if (sz.some((x) => x & 0x80)) return 0; // sizes are "syncsafe": 7 bits per byte
  const body = (sz[0] << 21) | (sz[1] << 14) | (sz[2] << 7) | sz[3];
  const footer = b[at + 5] & 0x10 ? 10 : 0;
  return 10 + body + footer;
}

// MPEG audio (mp1/mp2/mp3) frame headers. Indexes: [versionBits][layerBits][bitrateIndex].
const MPEG_BITRATES_V1 = {
  1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // layer I
  2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384], // layer II
  3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], // layer III
} as const;
const MPEG_BITRATES_V2 = {
  1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  3: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
} as const;
const MPEG_RATES = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] } as const;

/** Length in bytes of the MPEG audio frame whose header starts at `at`, or 0 if it is not a valid header. */
function mpegFrameLength(b: Uint8Array, at: number): number {
  if (at + 4 > b.length) return 0;
  if (b[at] !== 0xff || (b[at + 1] & 0xe0) !== 0xe0) return 0;
  const version = (b[at + 1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 = reserved
  const layerBits = (b[at + 1] >> 1) & 3; // 3 = layer I, 2 = II, 1 = III, 0 = reserved
  const brIndex = (b[at + 2] >> 4) & 15;
  const srIndex = (b[at + 2] >> 2) & 3;
  const padding = (b[at + 2] >> 1) & 1;
  if (version === 1 || layerBits === 0 || brIndex === 0 || brIndex === 15 || srIndex === 3) return 0;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const kbps = (version === 3 ? MPEG_BITRATES_V1 : MPEG_BITRATES_V2)[layer][brIndex];
  const rate = MPEG_RATES[version as 0 | 2 | 3][srIndex];
  if (layer === 1) return (Math.floor((12 * kbps * 1000) / rate) + padding) * 4;
  const perFrame = layer === 3 && version !== 3 ? 72 : 144;
  return Math.floor((perFrame * kbps * 1000) / rate) + padding;
}

/** Length of the ADTS (raw AAC) frame whose header starts at `at`, or 0. */
function adtsFrameLength(b: Uint8Array, at: number): number {
  if (at + 7 > b.length) return 0;
  if (b[at] !== 0xff || (b[at + 1] & 0xf6) !== 0xf0) return 0; // 12-bit sync, layer 00
  if (((b[at + 2] >> 2) & 15) > 12) return 0; // sampling frequency index
  const len = ((b[at + 3] & 3) << 11) | (b[at + 4] << 3) | (b[at + 5] >> 5);
  return len >= 7 ? len : 0;
}

/**
 * A stream of frames is accepted when a valid header is followed by another
 * valid header exactly one frame later (or the head ends inside the frame and
 * the file's first byte is the header). A single 0xFF 0xFx pair in random
 * bytes is common; two chained headers are not.
 */
function findFrameChain(b: Uint8Array, frameLength: (b: Uint8Array, at: number) => number, scanLimit: number): boolean {
  const end = Math.min(b.length - 4, scanLimit);
  for (let at = 0; at < end; at++) {
    if (b[at] !== 0xff) continue;
    const len = frameLength(b, at);
    if (!len) continue;
    const next = at + len;
    if (next + 4 <= b.length) {
      const len2 = frameLength(b, next);
      if (len2 && (b[next + 1] & 0xfe) === (b[at + 1] & 0xfe)) return true;
    } else if (at === 0) {
      return true; // the head is shorter than one frame: trust a header at offset 0
    }
  }
  return false;
}

/** ISO-BMFF brands that are still images, not audio/video. */
const IMAGE_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1', 'crx ', 'jp2 ', 'jpx ']);
/** Top-level QuickTime atoms that may open a file written without an ftyp box. */
const QT_ATOMS = ['moov', 'mdat', 'free', 'wide', 'skip', 'pnot'];

function isoBmff(b: Uint8Array): string | null {
  if (ascii(b, 4, 'ftyp')) {
    const brand = String.fromCharCode(b[8] ?? 32, b[9] ?? 32, b[10] ?? 32, b[11] ?? 32);
    if (IMAGE_BRANDS.has(brand)) return null;
    if (brand === 'qt  ') return 'mov';
    if (brand.startsWith('M4A') || brand.startsWith('M4B') || brand.startsWith('M4P')) return 'm4a';
    if (brand.startsWith('3g')) return '3gp';
    return 'mp4';
  }
  const size = u32be(b, 0);
  if (b.length >= 8 && (size === 0 || size === 1 || size >= 8) && QT_ATOMS.some((a) => ascii(b, 4, a))) return 'mov';
  return null;
}

/** "webm" or "matroska" from the EBML header's DocType, "matroska" if it is not in view. */
function matroska(b: Uint8Array): string {
  const limit = Math.min(b.length - 3, 64);
  for (let i = 4; i < limit; i++) {
    if (b[i] === 0x42 && b[i + 1] === 0x82) {
      const size = b[i + 2] & 0x7f; // a 1-byte EBML size (0x80 | n)
      if (b[i + 2] & 0x80 && ascii(b, i + 3, 'webm') && size >= 4) return 'webm';
      break;
    }
  }
  return 'matroska';
}

/** MPEG-TS: a 0x47 sync byte at the start of 3 to 5 consecutive packets. */
function mpegTs(b: Uint8Array, packet: number, offset: number): boolean {
  const need = Math.min(5, Math.floor((b.length - offset - 1) / packet) + 1);
  if (need < 3) return false;
  for (let k = 0; k < need; k++) if (b[offset + k * packet] !== 0x47) return false;
  return true;
}

/**
 * Names the container from the first bytes of a file, or null when they match
 * no audio/video format we accept. Pure: give it at least the first 64 bytes;
 * more (up to SNIFF_BYTES) lets it confirm raw MP3/AAC frame streams and look
 * past an ID3 tag.
 */
export function sniffContainer(head: Uint8Array): string | null {
  const b = head;
  if (b.length < 4) return null;

  if ((ascii(b, 0, 'RIFF') || ascii(b, 0, 'RIFX') || ascii(b, 0, 'RF64') || ascii(b, 0, 'BW64')) && ascii(b, 8, 'WAVE')) return 'wav';
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'AVI ')) return 'avi';
  if (ascii(b, 0, 'riff') && bytes(b, 4, [0x2e, 0x91, 0xcf, 0x11, 0xa5, 0xd6, 0x28, 0xdb])) return 'w64';
  if (ascii(b, 0, 'FORM') && (ascii(b, 8, 'AIFF') || ascii(b, 8, 'AIFC'))) return 'aiff';
  if (ascii(b, 0, 'caff')) return 'caf';
  if (ascii(b, 0, '#!AMR')) return 'amr';
  if (ascii(b, 0, 'fLaC')) return 'flac';
  if (ascii(b, 0, 'OggS')) return 'ogg';
  if (bytes(b, 0, [0x1a, 0x45, 0xdf, 0xa3])) return matroska(b);
  if (bytes(b, 0, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) return 'asf';
  if (ascii(b, 0, 'FLV') && b[3] === 1) return 'flv';
  if (ascii(b, 0, '.snd')) return 'au';
  if (ascii(b, 0, 'wvpk')) return 'wavpack';
  if (ascii(b, 0, 'MAC ')) return 'ape';
  if (ascii(b, 0, 'TTA1')) return 'tta';
  if (ascii(b, 0, 'DSD ')) return 'dsf';
  if (bytes(b, 0, [0x00, 0x00, 0x01, 0xba])) return 'mpeg';

  const iso = isoBmff(b);
  if (iso) return iso;
  if (ascii(b, 4, 'ftyp')) return null; // an ISO-BMFF still image

  if (mpegTs(b, 188, 0)) return 'mpegts';
  if (mpegTs(b, 192, 4)) return 'mpegts'; // M2TS: 4-byte timecode before each packet

  const tag = id3TagLength(b);
  if (tag > 0) return tag + 4 > b.length ? 'mp3' : sniffAfterId3(b.subarray(tag));
  // Raw frame streams, possibly after some padding: ADTS first (its sync is stricter).
  if (findFrameChain(b, adtsFrameLength, 2048)) return 'aac';
  if (findFrameChain(b, mpegFrameLength, 2048)) return 'mp3';
  return null;
}

/**
 * ID3 tags open MP3s, and sometimes FLAC or raw AAC: `rest` is what follows
 * the tag. An ID3 tag is strong evidence of audio, so the answer is never null.
 */
export function sniffAfterId3(rest: Uint8Array): string {
  if (ascii(rest, 0, 'fLaC')) return 'flac';
  if (adtsFrameLength(rest, 0) && findFrameChain(rest, adtsFrameLength, 1)) return 'aac';
  return 'mp3';
}

/** True when the bytes look like text (UTF-8/ASCII without control characters). */
export function looksLikeText(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  let printable = 0;
  for (const x of b) {
    if (x === 0) return false;
    if (x === 9 || x === 10 || x === 13 || x >= 32) printable++;
  }
  return printable / b.length > 0.97;
}

async function readRange(file: Blob, start: number, end: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await file.slice(start, end).arrayBuffer());
  } catch (e) {
    throw new VoxError('file-unreadable', e instanceof Error ? `(${e.name}: ${e.message})` : undefined, { cause: e });
  }
}

/**
 * Everything that can be said about a file without decoding it: rejects empty,
 * over-size, unreadable and non-media files with their own VoxError, and
 * returns the container name sniffed from the first bytes.
 */
export async function checkBeforeDecode(file: Blob & { name: string }, limits: Limits): Promise<string> {
  const name = `“${file.name}”`;
  if (file.size === 0) throw new VoxError('file-empty', `${name} has no content.`);
  if (file.size > limits.maxFileBytes) {
    throw new VoxError('file-too-large', `${name} is ${formatBytes(file.size)}; the limit is ${formatBytes(limits.maxFileBytes)}.`);
  }
  const head = await readRange(file, 0, SNIFF_BYTES);
  if (head.length === 0) throw new VoxError('file-unreadable', `${name} could not be read.`);
  let container = sniffContainer(head);
  const tag = id3TagLength(head);
  if (tag > 0 && tag + 4 > head.length && tag < file.size) {
    // A long ID3 tag (cover art): read a little of what follows it.
    container = sniffAfterId3(await readRange(file, tag, tag + SNIFF_BYTES));
  }
  if (!container) {
    const hint = looksLikeText(head.subarray(0, 1024)) ? ' It looks like a text file.' : '';
    throw new VoxError('file-not-media', `${name} is not a recognised audio or video format.${hint}`);
  }
  return container;
}

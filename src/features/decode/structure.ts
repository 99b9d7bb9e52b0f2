/**
 * Truncation that the container's own bookkeeping reveals, found by reading a
 * few header bytes (never the payload): an MP4 box, a RIFF chunk or a
 * Matroska segment that claims to run past the end of the file.
 *
 * ffmpeg only notices some of these (an MP4 cut before its index says "moov
 * atom not found"; one cut after it decodes half and logs "partial file"), so
 * checking first gives every cut-off file the same, precise message.
 */
import { formatBytes } from '../../lib/limits';

/** Reads bytes [start, end) of the file (end is clamped to the file size). */
export type ReadRange = (start: number, end: number) => Promise<Uint8Array>;

/** ISO-BMFF top-level boxes visited at most; fragmented files have thousands, and we stop early. */
const MAX_BOXES = 256;
/** Tolerated overrun: some muxers round sizes or pad. */
const SLACK_BYTES = 8;

const fourcc = (b: Uint8Array, at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
const u32be = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const u32le = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

function cut(claimed: number, size: number): string {
  return `The file says it is ${formatBytes(claimed)} long, but only ${formatBytes(size)} are present.`;
}

async function isoBmff(read: ReadRange, size: number): Promise<string | null> {
  let at = 0;
  for (let n = 0; n < MAX_BOXES && at + 8 <= size; n++) {
    const h = await read(at, at + 16);
    if (h.length < 8) return null;
    let len = u32be(h, 0);
    const type = fourcc(h, 4);
    if (!/^[\x20-\x7e]{4}$/.test(type)) return null; // not a box header: leave it to ffmpeg
    if (len === 1) {
      if (h.length < 16) return null;
      len = u32be(h, 8) * 2 ** 32 + u32be(h, 12);
    } else if (len === 0) {
      return null; // "extends to end of file"
    }
    if (len < 8) return null;
    if (at + len > size + SLACK_BYTES) return `${cut(at + len, size)} (the “${type}” box is cut off)`;
    at += len;
  }
  return null;
}

function riff(h: Uint8Array, size: number): string | null {
  if (fourcc(h, 0) !== 'RIFF' || h.length < 8) return null;
  const len = u32le(h, 4);
  if (len === 0 || len === 0xffffffff || len === 0xfffffff7) return null; // streaming writers leave it unset
  return len + 8 > size + SLACK_BYTES ? cut(len + 8, size) : null;
}

/** Reads an EBML variable-length integer at `at`: [value, length]; value -1 means "unknown". */
function vint(b: Uint8Array, at: number): [number, number] | null {
  const first = b[at];
  if (first === undefined || first === 0) return null;
  let len = 1;
  while (!(first & (0x80 >> (len - 1)))) len++;
  if (at + len > b.length) return null;
  let v = first & (0xff >> len);
  let allOnes = v === 0xff >> len;
  for (let i = 1; i < len; i++) {
    v = v * 256 + b[at + i];
    if (b[at + i] !== 0xff) allOnes = false;
  }
  return [allOnes ? -1 : v, len];
}

async function matroska(read: ReadRange, size: number): Promise<string | null> {
  const h = await read(0, 64);
  const hdr = vint(h, 4);
  if (!hdr || hdr[0] < 0) return null;
  const seg = 4 + hdr[1] + hdr[0]; // after the EBML header
  const s = await read(seg, seg + 12);
  if (s.length < 5 || u32be(s, 0) !== 0x18538067) return null;
  const segLen = vint(s, 4);
  if (!segLen || segLen[0] < 0) return null; // live recordings (MediaRecorder) leave the size unknown
  const end = seg + 4 + segLen[1] + segLen[0];
  return end > size + SLACK_BYTES ? cut(end, size) : null;
}

const ISO_CONTAINERS = new Set(['mp4', 'm4a', 'mov', '3gp']);

/**
 * Describes how the file is cut off, or null when its structure is complete
 * (or cannot be judged this way: then ffmpeg has the last word).
 */
export async function findTruncation(read: ReadRange, size: number, container: string): Promise<string | null> {
  if (ISO_CONTAINERS.has(container)) return isoBmff(read, size);
  if (container === 'wav') return riff(await read(0, 12), size);
  if (container === 'webm' || container === 'matroska') return matroska(read, size);
  return null;
}

/** A ReadRange over a Blob (File.slice reads only what is asked for). */
export function blobReader(blob: Blob): ReadRange {
  return async (start, end) => new Uint8Array(await blob.slice(start, Math.min(end, blob.size)).arrayBuffer());
}

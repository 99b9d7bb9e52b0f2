/**
 * Reading what ffmpeg says: ffprobe's JSON into MediaFacts, and ffmpeg's error
 * log into the VoxError a user should see. Pure, so it is unit-tested without
 * a browser.
 */
import { VoxError, type ErrorCode } from '../../lib/errors';
import type { MediaFacts, StreamFacts } from '../../pipeline/types';

interface ProbeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  sample_rate?: string;
  channels?: number;
  width?: number;
  height?: number;
  duration?: string;
  disposition?: { attached_pic?: number };
}

interface ProbeJson {
  format?: { duration?: string; format_name?: string };
  streams?: ProbeStream[];
  error?: { code?: number; string?: string };
}

const num = (s: string | number | undefined): number => {
  const v = typeof s === 'number' ? s : s === undefined ? NaN : Number.parseFloat(s);
  return Number.isFinite(v) ? v : NaN;
};

function streamFacts(s: ProbeStream, i: number): StreamFacts {
  const index = Number.isInteger(s.index) ? (s.index as number) : i;
  const codec = s.codec_name ?? 'unknown';
  if (s.codec_type === 'audio') {
    const f: StreamFacts = { index, type: 'audio', codec };
    const rate = num(s.sample_rate);
    if (rate > 0) f.sampleRate = rate;
    if (typeof s.channels === 'number' && s.channels > 0) f.channels = s.channels;
    return f;
  }
  // Cover art in MP3/M4A is a one-picture "video" stream: not a video for the user.
  if (s.codec_type === 'video' && !s.disposition?.attached_pic) {
    const f: StreamFacts = { index, type: 'video', codec };
    if (s.width) f.width = s.width;
    if (s.height) f.height = s.height;
    return f;
  }
  return { index, type: 'other', codec };
}

/**
 * Null when ffprobe's JSON describes the file; otherwise the error it
 * reported (-show_error), or a note that it wrote nothing usable.
 */
export function probeFailure(json: string): string | null {
  let parsed: ProbeJson;
  try {
    parsed = JSON.parse(json) as ProbeJson;
  } catch {
    return 'ffprobe wrote no description of the file';
  }
  if (parsed.error) return parsed.error.string ?? `ffprobe error ${parsed.error.code ?? ''}`.trim();
  if (!parsed.format) return 'ffprobe found no container format';
  return null;
}

export interface ParsedProbe {
  facts: MediaFacts;
  /** False when neither the container nor the audio stream states a duration (then durationSec is NaN). */
  durationKnown: boolean;
}

/**
 * MediaFacts from `ffprobe -print_format json -show_format -show_streams`.
 * Throws VoxError file-no-audio when there is no audio stream, decode-failed
 * when the JSON is not ffprobe's.
 */
export function factsFromProbe(json: string, file: { name: string; size: number }, container: string): ParsedProbe {
  let parsed: ProbeJson;
  try {
    parsed = JSON.parse(json) as ProbeJson;
  } catch (e) {
    throw new VoxError('decode-failed', 'ffprobe returned no readable description of the file.', { cause: e });
  }
  const streams = (parsed.streams ?? []).map(streamFacts);
  const audioIdx = streams.findIndex((s) => s.type === 'audio');
  if (audioIdx < 0) {
    const kinds = streams.length ? ` It contains ${describeStreams(streams)}.` : '';
    throw new VoxError('file-no-audio', `“${file.name}” has no audio stream.${kinds}`);
  }
  const audio = streams[audioIdx];
  const fromFormat = num(parsed.format?.duration);
  const fromStream = num(parsed.streams?.[audioIdx]?.duration);
  const durationSec = fromFormat > 0 ? fromFormat : fromStream > 0 ? fromStream : NaN;
  return {
    facts: {
      fileName: file.name,
      sizeBytes: file.size,
      container,
      durationSec,
      streams,
      sampleRate: audio.sampleRate ?? 0,
      channels: audio.channels ?? 0,
    },
    durationKnown: Number.isFinite(durationSec),
  };
}

function describeStreams(streams: StreamFacts[]): string {
  const n = (t: StreamFacts['type']) => streams.filter((s) => s.type === t).length;
  const parts: string[] = [];
  if (n('video')) parts.push(`${n('video')} video stream${n('video') > 1 ? 's' : ''}`);
  if (n('other')) parts.push(`${n('other')} other stream${n('other') > 1 ? 's' : ''}`);
  return parts.join(' and ') || 'no streams';
}

/**
 * The last time ffmpeg reached, in seconds, from a `-progress` report
 * (key=value lines; the last out_time_us wins).
 */
export function durationFromProgressReport(report: string): number {
  let last = NaN;
  for (const m of report.matchAll(/^out_time_us=(\d+)/gm)) last = Number(m[1]) / 1e6;
  return last;
}

const ISO = new Set(['mp4', 'm4a', 'mov', '3gp']);

interface Rule {
  test: RegExp;
  code: (container: string) => ErrorCode;
}

/** First match wins, so the specific causes come before the generic "Invalid data". */
const RULES: Rule[] = [
  { test: /matches no streams|does not contain any stream|Output file .* does not contain any stream/i, code: () => 'file-no-audio' },
  { test: /Cannot allocate memory|out of memory|OOM/i, code: () => 'out-of-memory' },
  { test: /moov atom not found/i, code: (c) => (ISO.has(c) ? 'file-truncated' : 'file-corrupt') },
  { test: /partial file|End of file|unexpected end|premature end|Truncat|stream ends prematurely|EOF (reached|while)/i, code: () => 'file-truncated' },
  {
    test: /Invalid data found|could not find codec parameters|Invalid argument|Failed to read frame|Format .* detected only with low score|no decoder|Decoder .* not found|Unsupported codec|Error while decoding|invalid/i,
    code: () => 'file-corrupt',
  },
];

/** Strips ffmpeg's "[mov,mp4 @ 0x1234]" and "/in/file.mp4:" prefixes so a line can be shown. */
export function cleanLogLine(line: string): string {
  return line
    .replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '')
    .replace(/^\/[^:]*:\s*/, '')
    .trim();
}

/**
 * Which failure an ffmpeg/ffprobe error log describes. `lines` are the
 * messages ffmpeg printed (at -v error); `container` is what sniffing found.
 */
export function classifyFailure(lines: string[], container: string, fallback: ErrorCode = 'decode-failed'): VoxError {
  const text = lines.map(cleanLogLine).filter(Boolean);
  for (const rule of RULES) {
    const hit = text.find((l) => rule.test.test(l));
    if (hit) return new VoxError(rule.code(container), `(ffmpeg: ${hit.slice(0, 200)})`);
  }
  const last = text.at(-1);
  return new VoxError(fallback, last ? `(ffmpeg: ${last.slice(0, 200)})` : undefined);
}

const TRUNCATED_IN_LOG = /partial file|stream ends prematurely/i;
const DECODE_ERROR_IN_LOG = /Error while decoding|Header missing|Invalid data found|corrupt|invalid (frame|packet)/i;

/**
 * Judges a decode that ffmpeg reported as successful (exit code 0). ffmpeg
 * skips undecodable packets and carries on, and in ffmpeg.wasm its "too many
 * errors" exit code depends on error counts left over from earlier commands,
 * so the log and the amount of audio are checked here instead:
 * - a container that says "partial file" is cut off;
 * - decoding errors that cost more than 10% of the stated duration mean a
 *   damaged file (a few glitches in an otherwise complete file are accepted).
 */
export function damageInLog(lines: string[], decodedSec: number, expectedSec: number): VoxError | null {
  const text = lines.map(cleanLogLine);
  const cut = text.find((l) => TRUNCATED_IN_LOG.test(l));
  if (cut) return new VoxError('file-truncated', `(ffmpeg: ${cut.slice(0, 200)})`);
  const broken = text.find((l) => DECODE_ERROR_IN_LOG.test(l));
  if (broken && Number.isFinite(expectedSec) && expectedSec > 0 && decodedSec < 0.9 * expectedSec) {
    return new VoxError('file-corrupt', `Only ${decodedSec.toFixed(1)} s of ${expectedSec.toFixed(1)} s could be decoded. (ffmpeg: ${broken.slice(0, 200)})`);
  }
  return null;
}

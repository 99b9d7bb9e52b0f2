import { describe, expect, it } from 'vitest';
import { VoxError } from '../../lib/errors';
import { classifyFailure, cleanLogLine, damageInLog, durationFromProgressReport, factsFromProbe, probeFailure } from './interpret';

const file = { name: 'talk.mp4', size: 328_819 };

/** Trimmed from ffmpeg.wasm's ffprobe -print_format json -show_format -show_streams on an mp4 with video and audio. */
const MP4_PROBE = JSON.stringify({
  streams: [
    { index: 0, codec_name: 'h264', codec_type: 'video', width: 320, height: 240, duration: '9.200000' },
    { index: 1, codec_name: 'aac', codec_type: 'audio', sample_rate: '44100', channels: 2, duration: '9.032562' },
  ],
  format: { filename: '/in/input.mp4', nb_streams: 2, format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '9.200000', size: '328819' },
});

describe('probeFailure', () => {
  it('accepts a description with a format', () => {
    expect(probeFailure(MP4_PROBE)).toBeNull();
  });
  it('returns the error ffprobe reported with -show_error', () => {
    expect(probeFailure('{"error":{"code":-1094995529,"string":"Invalid data found when processing input"}}')).toBe('Invalid data found when processing input');
  });
  it('flags empty or missing output', () => {
    expect(probeFailure('')).toMatch(/no description/);
    expect(probeFailure('{}')).toMatch(/no container format/);
  });
});

describe('factsFromProbe', () => {
  it('reads container duration, streams and the first audio stream', () => {
    const { facts, durationKnown } = factsFromProbe(MP4_PROBE, file, 'mp4');
    expect(durationKnown).toBe(true);
    expect(facts).toEqual({
      fileName: 'talk.mp4',
      sizeBytes: 328_819,
      container: 'mp4',
      durationSec: 9.2,
      streams: [
        { index: 0, type: 'video', codec: 'h264', width: 320, height: 240 },
        { index: 1, type: 'audio', codec: 'aac', sampleRate: 44100, channels: 2 },
      ],
      sampleRate: 44100,
      channels: 2,
    });
  });

  it('treats cover art as "other", not video', () => {
    const json = JSON.stringify({
      streams: [
        { index: 0, codec_type: 'audio', codec_name: 'mp3', sample_rate: '44100', channels: 2 },
        { index: 1, codec_type: 'video', codec_name: 'mjpeg', disposition: { attached_pic: 1 } },
      ],
      format: { duration: '3.0' },
    });
    expect(factsFromProbe(json, file, 'mp3').facts.streams.map((s) => s.type)).toEqual(['audio', 'other']);
  });

  it('falls back to the audio stream duration, and reports when there is none', () => {
    const streamOnly = JSON.stringify({ streams: [{ codec_type: 'audio', codec_name: 'opus', sample_rate: '48000', channels: 1, duration: '4.5' }], format: {} });
    expect(factsFromProbe(streamOnly, file, 'webm').facts.durationSec).toBe(4.5);
    const none = JSON.stringify({ streams: [{ codec_type: 'audio', codec_name: 'opus', sample_rate: '48000', channels: 1 }], format: { duration: 'N/A' } });
    const parsed = factsFromProbe(none, file, 'webm');
    expect(parsed.durationKnown).toBe(false);
    expect(parsed.facts.durationSec).toBeNaN();
  });

  it('throws file-no-audio for a video without sound, saying what it has', () => {
    const json = JSON.stringify({ streams: [{ index: 0, codec_type: 'video', codec_name: 'h264' }], format: { duration: '5.0' } });
    const e = (() => {
      try {
        factsFromProbe(json, file, 'mp4');
      } catch (x) {
        return x as VoxError;
      }
    })();
    expect(e).toBeInstanceOf(VoxError);
    expect(e?.code).toBe('file-no-audio');
    expect(e?.detail).toContain('1 video stream');
  });

  it('throws decode-failed on malformed JSON', () => {
    expect(() => factsFromProbe('{not json', file, 'mp4')).toThrow(VoxError);
  });
});

describe('classifyFailure', () => {
  const code = (lines: string[], container = 'mp4') => classifyFailure(lines, container).code;

  it('no audio stream', () => {
    expect(code(["Stream map '0:a:0' matches no streams.", "To ignore this, add a trailing '?' to the map."])).toBe('file-no-audio');
  });
  it('an MP4 without its index is cut off; another container with the same message is corrupt', () => {
    const lines = ['[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55808f2a5480] moov atom not found', '/in/input.mp4: Invalid data found when processing input'];
    expect(code(lines, 'mp4')).toBe('file-truncated');
    expect(code(lines, 'mov')).toBe('file-truncated');
    expect(code(lines, 'matroska')).toBe('file-corrupt');
  });
  it('end of file / partial file', () => {
    expect(code(['[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] stream 1, offset 0x2849c: partial file'])).toBe('file-truncated');
    expect(code(['/in/input.mkv: End of file'], 'matroska')).toBe('file-truncated');
  });
  it('invalid data', () => {
    expect(code(['/in/input.mp3: Invalid data found when processing input'], 'mp3')).toBe('file-corrupt');
    expect(code(['[mp3float @ 0xe0c680] Header missing', 'Error while decoding stream #0:0: Invalid data found when processing input'], 'mp3')).toBe('file-corrupt');
  });
  it('memory', () => {
    expect(code(['Cannot allocate memory'])).toBe('out-of-memory');
  });
  it('falls back, keeping the last line as detail', () => {
    const e = classifyFailure(['[aac @ 0x1] something odd happened'], 'mp4');
    expect(e.code).toBe('decode-failed');
    expect(e.detail).toBe('(ffmpeg: something odd happened)');
    expect(classifyFailure([], 'mp4', 'file-corrupt').code).toBe('file-corrupt');
  });
  it('cleans ffmpeg prefixes from the line it shows', () => {
    expect(cleanLogLine('[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55808f2a5480] moov atom not found')).toBe('moov atom not found');
    expect(cleanLogLine('/in/input.mp4: Invalid data found when processing input')).toBe('Invalid data found when processing input');
  });
});

describe('damageInLog (a decode that exited 0)', () => {
  it('accepts a clean log', () => {
    expect(damageInLog(['Aborted()'], 9.02, 9.02)).toBeNull();
  });
  it('a partial file is truncated even when ffmpeg exits 0', () => {
    expect(damageInLog(['[mov,mp4 @ 0x1] stream 1, offset 0x2849c: partial file'], 4.3, 9.2)?.code).toBe('file-truncated');
  });
  it('decoding errors that lost most of the audio mean a corrupt file', () => {
    const e = damageInLog(['[mp3float @ 0x1] Header missing', 'Error while decoding stream #0:0: Invalid data found when processing input'], 0.21, 9.06);
    expect(e?.code).toBe('file-corrupt');
    expect(e?.detail).toContain('0.2 s of 9.1 s');
  });
  it('tolerates a few glitches in an otherwise complete file', () => {
    expect(damageInLog(['Error while decoding stream #0:0: Invalid data found when processing input'], 9.0, 9.06)).toBeNull();
  });
});

describe('durationFromProgressReport', () => {
  it('takes the last out_time_us', () => {
    const report = 'frame=0\nout_time_us=4000000\nout_time=00:00:04.000000\nprogress=continue\nout_time_us=9021000\nprogress=end\n';
    expect(durationFromProgressReport(report)).toBeCloseTo(9.021, 6);
    expect(durationFromProgressReport('')).toBeNaN();
  });
});

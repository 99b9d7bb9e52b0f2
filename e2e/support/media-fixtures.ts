/**
 * Test media, generated at test time with Debian's espeak-ng, sox and ffmpeg
 * (nothing recorded, nothing downloaded, nothing from ../shared).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const FIXTURES = path.resolve('e2e/.fixtures');
export const fixture = (name: string) => path.join(FIXTURES, name);

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
const ffmpeg = (...args: string[]) => run('ffmpeg', ['-y', '-hide_banner', '-loglevel', 'error', ...args]);

const LINES_A = [
  'The committee will meet again on Thursday to review the budget for the new library.',
  'I think we should start with the numbers from last year before we decide anything.',
  'Please send me the report by the end of the week so I can read it carefully.',
];
const LINES_B = [
  'Seven small boats sailed across the quiet harbour early in the morning.',
  'My grandmother grew tomatoes, beans and sunflowers in her garden every summer.',
  'The train to the coast leaves from platform four at twenty past nine.',
];

function speak(voice: string, text: string, out: string, pitch: string): void {
  run('espeak-ng', ['-v', voice, '-p', pitch, '-s', '150', '-w', out, text]);
}

/** Two synthetic voices (different speakers, different pitch), mixed with overlap, 16 kHz mono. */
function makeVoices(): void {
  const a = fixture('voice-a.wav');
  const b = fixture('voice-b.wav');
  speak('en-us+m3', LINES_A.join(' '), fixture('a-raw.wav'), '35');
  speak('en-gb+f4', LINES_B.join(' '), fixture('b-raw.wav'), '70');
  run('sox', [fixture('a-raw.wav'), '-r', '16000', '-c', '1', a, 'trim', '0', '8']);
  // B starts 1.5 s later: overlapping speech, as in crosstalk.
  run('sox', [fixture('b-raw.wav'), '-r', '16000', '-c', '1', b, 'pad', '1.5', '0', 'trim', '0', '8', 'gain', '-2']);
  run('sox', ['-m', a, b, fixture('two-voices.wav'), 'gain', '-n', '-3']);
}

/**
 * An interview: A and B take turns (no overlap), 0.6 s apart, 16 kHz mono. A separator alone puts lone voices on one
 * track; the associate stage should give each person a track. interview.json lists the turns (seconds).
 */
function makeInterview(): void {
  const parts: string[] = [];
  const turns: { who: 'a' | 'b'; from: number; to: number }[] = [];
  let t = 0.6;
  for (let i = 0; i < 6; i++) {
    const who = i % 2 ? 'b' : 'a';
    const raw = fixture(`turn${i}-raw.wav`);
    const out = fixture(`turn${i}.wav`);
    const line = (i % 2 ? LINES_B : LINES_A)[i >> 1];
    if (who === 'a') speak('en-us+m3', line, raw, '35');
    else speak('en-gb+f4', line, raw, '70');
    run('sox', [raw, '-r', '16000', '-c', '1', out, 'pad', i === 0 ? '0.6' : '0', '0.6']);
    const seconds = Number(execFileSync('soxi', ['-D', out]).toString()) - (i === 0 ? 1.2 : 0.6);
    turns.push({ who, from: t, to: t + seconds });
    t += seconds + 0.6;
    parts.push(out);
  }
  run('sox', [...parts, fixture('interview.wav'), 'gain', '-n', '-3']);
  writeFileSync(fixture('interview.json'), JSON.stringify(turns));
}

function makeFormats(): void {
  const src = fixture('two-voices.wav');
  ffmpeg('-i', src, '-c:a', 'libmp3lame', '-b:a', '64k', fixture('two-voices.mp3'));
  ffmpeg('-i', src, '-c:a', 'aac', '-b:a', '64k', fixture('two-voices.m4a'));
  ffmpeg('-i', src, '-c:a', 'libvorbis', fixture('two-voices.ogg'));
  ffmpeg('-i', src, '-c:a', 'libopus', '-b:a', '32k', fixture('two-voices.opus'));
  ffmpeg('-i', src, '-c:a', 'flac', fixture('two-voices.flac'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-i', src, '-shortest', '-c:v', 'libvpx', '-b:v', '200k', '-c:a', 'libopus', fixture('two-voices.webm'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-i', src, '-shortest', '-c:v', 'mpeg4', '-c:a', 'aac', fixture('two-voices.mov'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-i', src, '-shortest', '-c:v', 'mpeg4', '-c:a', 'libmp3lame', fixture('two-voices.mkv'));
  // The main fixture: a talking "video" (test pattern) with a 44.1 kHz stereo AAC soundtrack.
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-i', src, '-shortest', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ar', '44100', '-ac', '2', fixture('two-voices.mp4'));
  // A short clip for the backend comparison (WebGPU on SwiftShader is slow).
  run('sox', [src, fixture('short.wav'), 'trim', '1.5', '3']);
  // A longer input so there is time to cancel mid-separation: 160 s (a 2-core machine of 2026-12-04 separated
  // 40 s in 0.9 s, finishing before a test could see the separate stage running).
  run('sox', [...Array(20).fill(src), fixture('long.wav')]);
  // Three minutes (the 8 s scene repeated) for the streaming memory check: three 60 s decode segments.
  ffmpeg('-stream_loop', '-1', '-i', src, '-t', '180', '-c:a', 'aac', '-b:a', '96k', '-ar', '44100', '-ac', '2', fixture('three-minutes.m4a'));
}

function makeBadInputs(): void {
  // Seeded bytes, so a failure is reproducible.
  let s = 0x2545f491;
  const rnd = Buffer.alloc(256 * 1024);
  for (let i = 0; i < rnd.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    rnd[i] = s & 0xff;
  }
  writeFileSync(fixture('random-bytes.mp4'), rnd);
  writeFileSync(fixture('empty.mp4'), Buffer.alloc(0));
  writeFileSync(fixture('notes.txt'), 'Meeting notes\n- budget\n- library\n'.repeat(50));
  const mp4 = readFileSync(fixture('two-voices.mp4'));
  writeFileSync(fixture('truncated.mp4'), mp4.subarray(0, Math.floor(mp4.length / 2)));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-an', fixture('no-audio.mp4'));
}

const STAMP = fixture('.complete-v4');

export function makeFixtures(): void {
  if (existsSync(STAMP)) return;
  mkdirSync(FIXTURES, { recursive: true });
  makeVoices();
  makeInterview();
  makeFormats();
  makeBadInputs();
  writeFileSync(STAMP, new Date().toISOString());
}

export const size = (name: string) => statSync(fixture(name)).size;

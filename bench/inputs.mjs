/**
 * Benchmark inputs, generated on this machine with Debian's espeak-ng, sox and
 * ffmpeg into bench/.inputs/ (git-ignored; media is never committed):
 *
 *   speech-<N>min.m4a   two espeak-ng voices talking over each other, AAC 44.1 kHz stereo 128 kbit/s
 *   video-<N>min.mp4    1080p25 H.264 test pattern (testsrc2, ~2.5 Mbit/s) with that soundtrack
 *   speech-<N>min.f32   the m4a decoded by native ffmpeg to 16 kHz mono float32 (the separation input)
 *
 * One ~60 s two-voice scene and one 60 s 1080p clip are made once, then looped to
 * length (stream copy for the video), so a 60-minute input costs seconds, not an hour of encoding.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

export const INPUTS = path.resolve('bench/.inputs');
const STAMP_VERSION = 'v1';
const p = (name) => path.join(INPUTS, name);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
const ffmpeg = (...args) => run('ffmpeg', ['-y', '-hide_banner', '-loglevel', 'error', ...args]);

const TEXT_A = [
  'The committee will meet again on Thursday to review the budget for the new library.',
  'I think we should start with the numbers from last year before we decide anything.',
  'Please send me the report by the end of the week so I can read it carefully.',
  'If the architects agree, construction could begin in the spring and finish by winter.',
  'We also need to talk about the parking, because the neighbours have complained twice.',
  'Let us keep the meeting short today; most of us have another call at four.',
].join(' ');
const TEXT_B = [
  'Seven small boats sailed across the quiet harbour early in the morning.',
  'My grandmother grew tomatoes, beans and sunflowers in her garden every summer.',
  'The train to the coast leaves from platform four at twenty past nine.',
  'After the storm, the children collected shells and driftwood along the beach.',
  'A good bread needs time, warm water, a little salt and a very patient baker.',
  'On clear nights you can see the lights of the island from the old lighthouse.',
].join(' ');

function atomic(final, make) {
  if (existsSync(final) && statSync(final).size > 0) return false;
  const tmp = `${final}.part${path.extname(final)}`;
  make(tmp);
  renameSync(tmp, final);
  return true;
}

/** ~60 s: voice A (male, low) and voice B (female, high, starts 2 s later), mixed with overlap, 44.1 kHz stereo wav. */
function scene() {
  const out = p(`scene-${STAMP_VERSION}.wav`);
  atomic(out, (tmp) => {
    run('espeak-ng', ['-v', 'en-us+m3', '-p', '35', '-s', '140', '-w', p('a-raw.wav'), TEXT_A]);
    run('espeak-ng', ['-v', 'en-gb+f4', '-p', '70', '-s', '150', '-w', p('b-raw.wav'), TEXT_B]);
    run('sox', [p('a-raw.wav'), '-r', '44100', '-c', '1', p('a.wav'), 'pad', '0', '60', 'trim', '0', '60']);
    run('sox', [p('b-raw.wav'), '-r', '44100', '-c', '1', p('b.wav'), 'pad', '2', '60', 'trim', '0', '60', 'gain', '-2']);
    // A little room noise, so the background output has something to carry.
    run('sox', ['-n', '-r', '44100', '-c', '1', p('noise.wav'), 'synth', '60', 'pinknoise', 'vol', '0.02']);
    run('sox', ['-m', p('a.wav'), p('b.wav'), p('noise.wav'), '-c', '2', tmp, 'remix', '1', '1', 'gain', '-n', '-3']);
  });
  return out;
}

/** 60 s of 1080p25 H.264 (testsrc2 at CRF 28 ≈ 2.5 Mbit/s, a plausible screen/camera recording rate). */
function videoClip() {
  const out = p(`clip1080-${STAMP_VERSION}.mp4`);
  atomic(out, (tmp) =>
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=25', '-t', '60', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-pix_fmt', 'yuv420p', '-g', '50', '-an', tmp),
  );
  return out;
}

/** Makes (if missing) the inputs of `minutes` and returns their paths; `video: false` skips the mp4 (3 h of 1080p is 3.4 GB), `pcm: false` the float32 file only the engine runs read. */
export function makeInputs(minutes, log = () => {}, { video: withVideo = true, pcm: withPcm = true } = {}) {
  mkdirSync(INPUTS, { recursive: true });
  const sec = String(minutes * 60);
  const audio = p(`speech-${minutes}min.m4a`);
  const video = p(`video-${minutes}min.mp4`);
  const pcm = p(`speech-${minutes}min.f32`);
  const t0 = Date.now();
  const base = scene();
  if (atomic(audio, (tmp) => ffmpeg('-stream_loop', '-1', '-i', base, '-t', sec, '-c:a', 'aac', '-b:a', '128k', '-ar', '44100', '-ac', '2', tmp))) log(`made ${path.basename(audio)}`);
  if (withVideo && atomic(video, (tmp) => ffmpeg('-stream_loop', '-1', '-i', videoClip(), '-i', audio, '-map', '0:v:0', '-map', '1:a:0', '-c', 'copy', '-t', sec, '-movflags', '+faststart', tmp))) log(`made ${path.basename(video)}`);
  if (withPcm && atomic(pcm, (tmp) => ffmpeg('-i', audio, '-ac', '1', '-ar', '16000', '-f', 'f32le', tmp))) log(`made ${path.basename(pcm)}`);
  const size = (f) => statSync(f).size;
  return { minutes, seconds: minutes * 60, audio, video: withVideo ? video : null, pcm: withPcm ? pcm : null, bytes: { audio: size(audio), video: withVideo ? size(video) : null, pcm: withPcm ? size(pcm) : null }, generateMs: Date.now() - t0 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const m of process.argv.slice(2).map(Number)) console.log(makeInputs(m, console.log));
}

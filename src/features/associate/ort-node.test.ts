/**
 * The associate stage with the real models on onnxruntime-node: the shipped
 * separator and voiceprint in public/models (or VOXSPLIT_TEST_MODEL_DIR),
 * through the app's code path (verify → sessions → ChunkedSeparator →
 * VoiceAssociator), on speech made here with espeak-ng. Skipped, with a
 * message, when the manifest ships no voiceprint or espeak-ng/sox are missing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest, voiceprintArtifact } from '../model/manifest';
import { createVerifiedSession, createVoiceprintSession, type OrtLike } from '../model/session';
import { loadVerifiedManifest, type FetchFn } from '../model/verify';
import { ChunkedSeparator } from '../separate/chunking';
import { VoiceAssociator } from './associator';

const dir = resolve(process.env.VOXSPLIT_TEST_MODEL_DIR ?? 'public/models');
const manifestPath = join(dir, 'manifest.json');
const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const shipped = existsSync(manifestPath) && voiceprintArtifact(parseManifest(readFileSync(manifestPath, 'utf8'))) !== undefined;
const tools = has('espeak-ng') && has('sox');
if (!shipped || !tools) console.warn(`[associate ort-node.test] skipped: ${!shipped ? `no voiceprint in ${manifestPath}` : 'espeak-ng or sox missing'}.`);

const RATE = 16000;
const fileFetch: FetchFn = async (url) => {
  const path = url.replace(/^file:\/\//, '');
  return existsSync(path) ? new Response(readFileSync(path)) : new Response('', { status: 404 });
};

/** espeak-ng speech as 16 kHz mono float samples. */
function speak(voice: string, pitch: number, text: string): Float32Array {
  const d = mkdtempSync(join(tmpdir(), 'voxsplit-speak-'));
  try {
    execFileSync('espeak-ng', ['-v', voice, '-p', String(pitch), '-s', '150', '-w', join(d, 'a.wav'), text]);
    execFileSync('sox', [join(d, 'a.wav'), '-r', String(RATE), '-c', '1', '-e', 'floating-point', '-b', '32', '-t', 'raw', join(d, 'a.f32')]);
    const b = readFileSync(join(d, 'a.f32'));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const A = { voice: 'en-us+m3', pitch: 35 };
const B = { voice: 'en-gb+f4', pitch: 70 };
const LINES = [
  'The committee will meet again on Thursday to review the budget.',
  'Seven small boats sailed across the quiet harbour this morning.',
  'I think we should start with the numbers from last year.',
  'My grandmother grew tomatoes and beans in her garden.',
  'Please send me the report by the end of the week.',
  'The train to the coast leaves from platform four.',
];

async function setup() {
  const ort = (await import('onnxruntime-node')) as unknown as OrtLike;
  const pin = createHash('sha256').update(readFileSync(manifestPath)).digest('hex');
  const verified = await loadVerifiedManifest(`file://${dir}/`, pin, { fetch: fileFetch });
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 } as object;
  return { separator: await createVerifiedSession(ort, verified, opts), voiceprint: (await createVoiceprintSession(ort, verified, opts))! };
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe.skipIf(!shipped || !tools)(`associate stage with the real models (${dir})`, () => {
  it('gives unit voiceprints, nearer for one voice than for two', async () => {
    const { voiceprint, separator } = await setup();
    const [a1, a2, b1, b2] = await Promise.all(
      [
        [A, LINES[0]],
        [A, LINES[2]],
        [B, LINES[1]],
        [B, LINES[3]],
      ].map(([v, t]) => voiceprint.embed(speak((v as typeof A).voice, (v as typeof A).pitch, t as string))),
    );
    for (const e of [a1, a2, b1, b2]) expect(Math.abs(cosine(e, e) - 1)).toBeLessThan(1e-3);
    expect(cosine(a1, a2)).toBeGreaterThan(cosine(a1, b1));
    expect(cosine(b1, b2)).toBeGreaterThan(cosine(a2, b2));
    await voiceprint.release();
    await separator.release();
  });

  it('puts two people taking turns on a track each', async () => {
    const { voiceprint, separator } = await setup();
    const gap = new Float32Array(Math.round(0.5 * RATE));
    const turns = LINES.map((t, i) => ({ who: i % 2, x: speak(i % 2 ? B.voice : A.voice, i % 2 ? B.pitch : A.pitch, t) }));
    const parts: Float32Array[] = [gap];
    const spans: { who: number; from: number; to: number }[] = [];
    let at = gap.length;
    for (const t of turns) {
      spans.push({ who: t.who, from: at, to: at + t.x.length });
      parts.push(t.x, gap);
      at += t.x.length + gap.length;
    }
    const input = new Float32Array(at);
    let o = 0;
    for (const p of parts) {
      input.set(p, o);
      o += p.length;
    }
    const m = separator.manifest;
    const kinds = m.sources.map((s) => s.kind);
    const chunker = new ChunkedSeparator((w) => separator.run(w), { ...m.chunking, kinds });
    const assoc = new VoiceAssociator({ kinds, embed: (x) => voiceprint.embed(x) });
    const out = kinds.map(() => new Float32Array(input.length));
    const take = async (blocks: { start: number; sources: Float32Array[] }[]) => {
      for (const b of blocks) for (const r of await assoc.push(b)) r.sources.forEach((s, i) => out[i].set(s, r.start));
    };
    for (let s = 0; s < input.length; s += 10 * RATE) await take(await chunker.push(input.slice(s, s + 10 * RATE)));
    await take(await chunker.finish());
    for (const r of await assoc.finish()) r.sources.forEach((s, i) => out[i].set(s, r.start));

    const energy = (x: Float32Array, a: number, b: number) => x.subarray(a, b).reduce((s, v) => s + v * v, 0);
    // Which track each person ended up on: the one holding most of their speech over all their turns.
    const share = [0, 1].map((who) => {
      const mine = spans.filter((s) => s.who === who);
      const e0 = mine.reduce((s, t) => s + energy(out[0], t.from, t.to), 0);
      const e1 = mine.reduce((s, t) => s + energy(out[1], t.from, t.to), 0);
      return e0 / (e0 + e1);
    });
    const trackOf = share.map((s) => (s >= 0.5 ? 0 : 1));
    expect(trackOf[0], `person A on track ${trackOf[0]}, person B on ${trackOf[1]}: shares ${share}`).not.toBe(trackOf[1]);
    for (const t of spans) {
      const own = energy(out[trackOf[t.who]], t.from, t.to);
      const other = energy(out[1 - trackOf[t.who]], t.from, t.to);
      expect(own / (own + other), `turn at ${(t.from / RATE).toFixed(1)} s`).toBeGreaterThan(0.8);
    }
    expect(assoc.summary.voices).toBe(2);
    await voiceprint.release();
    await separator.release();
  }, 60_000);
});

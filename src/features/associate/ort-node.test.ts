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

  it('keeps one voice taking turns on one track (the voiceprint finds no second voice)', async () => {
    const { voiceprint, separator } = await setup();
    // What the separator does with a lone voice: all of it on one output. Here it is put there directly.
    const gap = new Float32Array(Math.round(0.6 * RATE));
    const parts = LINES.flatMap((t) => [speak(A.voice, A.pitch, t), gap]);
    const T = parts.reduce((n, p) => n + p.length, 0);
    const sources = [new Float32Array(T), new Float32Array(T), new Float32Array(T)];
    let at = 0;
    for (const p of parts) {
      sources[0].set(p, at);
      at += p.length;
    }
    const assoc = new VoiceAssociator({ kinds: ['speaker', 'speaker', 'background'], embed: (x) => voiceprint.embed(x) });
    const out = sources.map(() => new Float32Array(T));
    const put = (bs: { start: number; sources: Float32Array[] }[]) => bs.forEach((b) => b.sources.forEach((x, i) => out[i].set(x, b.start)));
    for (let s = 0; s < T; s += 8 * RATE) put(await assoc.push({ start: s, sources: sources.map((x) => x.slice(s, s + 8 * RATE)) }));
    put(await assoc.finish());
    expect(assoc.summary).toMatchObject({ voices: 1, switches: 0 });
    expect(out[0]).toEqual(sources[0]);
    await voiceprint.release();
    await separator.release();
  }, 60_000);

  it('after the separator, only moves audio between the speaker tracks', async () => {
    const { voiceprint, separator } = await setup();
    const gap = new Float32Array(Math.round(0.5 * RATE));
    const parts = LINES.flatMap((t, i) => [i % 2 ? speak(B.voice, B.pitch, t) : speak(A.voice, A.pitch, t), gap]);
    const input = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      input.set(p, at);
      at += p.length;
    }
    const m = separator.manifest;
    const kinds = m.sources.map((x) => x.kind);
    const chunker = new ChunkedSeparator((w) => separator.run(w), { ...m.chunking, kinds });
    const assoc = new VoiceAssociator({ kinds, embed: (x) => voiceprint.embed(x) });
    const before = kinds.map(() => new Float32Array(input.length));
    const after = kinds.map(() => new Float32Array(input.length));
    let covered = 0;
    const take = async (blocks: { start: number; sources: Float32Array[] }[]) => {
      for (const b of blocks) {
        b.sources.forEach((x, i) => before[i].set(x, b.start));
        for (const r of await assoc.push({ start: b.start, sources: b.sources.map((x) => x.slice()) })) {
          expect(r.start).toBe(covered);
          r.sources.forEach((x, i) => after[i].set(x, r.start));
          covered += r.sources[0].length;
        }
      }
    };
    for (let s = 0; s < input.length; s += 10 * RATE) await take(await chunker.push(input.slice(s, s + 10 * RATE)));
    await take(await chunker.finish());
    for (const r of await assoc.finish()) {
      expect(r.start).toBe(covered);
      r.sources.forEach((x, i) => after[i].set(x, r.start));
      covered += r.sources[0].length;
    }
    expect(covered).toBe(input.length);
    const [a, b] = kinds.flatMap((k, i) => (k === 'speaker' ? [i] : []));
    let worst = 0;
    for (let n = 0; n < input.length; n++) worst = Math.max(worst, Math.abs(after[a][n] + after[b][n] - before[a][n] - before[b][n]));
    expect(worst).toBeLessThan(1e-5);
    kinds.forEach((k, i) => {
      if (k !== 'speaker') expect(after[i]).toEqual(before[i]);
    });
    await voiceprint.release();
    await separator.release();
  }, 60_000);
});

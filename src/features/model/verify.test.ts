import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VoxError } from '../../lib/errors';
import { fakeServer, validManifestObject } from './fixtures';
import type { ArtifactSpec } from './manifest';
import { loadVerifiedManifest, sha256Hex, verifyArtifact } from './verify';

const hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const BASE = 'https://app.example/models/';

function modelBytes(n = 4096): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

async function rejection(p: Promise<unknown>): Promise<VoxError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(VoxError);
    return e as VoxError;
  }
  throw new Error('expected a rejection');
}

/** A served model folder: the manifest (pinned), and its one artifact. */
function site(model = modelBytes()) {
  const spec: ArtifactSpec = { role: 'model', file: 'model.onnx', bytes: model.byteLength, sha256: hex(model) };
  const manifest = JSON.stringify(validManifestObject({ artifacts: [spec] }), null, 2);
  return { model, spec, manifest, pin: hex(manifest) };
}

describe('sha256Hex', () => {
  it('matches node:crypto, for ArrayBuffer and Uint8Array views', async () => {
    expect(await sha256Hex(new ArrayBuffer(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const b = modelBytes(1000);
    expect(await sha256Hex(b)).toBe(hex(b));
    expect(await sha256Hex(b.buffer as ArrayBuffer)).toBe(hex(b));
    expect(await sha256Hex(b.subarray(10, 20))).toBe(hex(b.subarray(10, 20)));
  });
});

describe('verifyArtifact', () => {
  it('accepts the exact bytes', async () => {
    const { model, spec } = site();
    await expect(verifyArtifact(model.buffer as ArrayBuffer, spec)).resolves.toBeInstanceOf(Uint8Array);
  });

  it('refuses one changed byte, naming the file, the expected and the actual hash', async () => {
    const { model, spec } = site();
    for (const at of [0, 1234, model.length - 1]) {
      const tampered = model.slice();
      tampered[at] ^= 0x01;
      const e = await rejection(verifyArtifact(tampered, spec));
      expect(e.code).toBe('model-hash-mismatch');
      expect(e.detail).toContain('model.onnx');
      expect(e.detail).toContain(spec.sha256);
      expect(e.detail).toContain(hex(tampered));
    }
  });

  it('refuses a size mismatch (truncated or padded) before hashing', async () => {
    const { model, spec } = site();
    for (const wrong of [model.subarray(0, model.length - 1), new Uint8Array([...model, 0]), new Uint8Array(0)]) {
      const e = await rejection(verifyArtifact(wrong, spec));
      expect(e.code).toBe('model-hash-mismatch');
      expect(e.detail).toContain('model.onnx');
      expect(e.detail).toContain(`expected ${model.length} bytes`);
      expect(e.detail).toContain(`got ${wrong.length} bytes`);
    }
  });
});

describe('loadVerifiedManifest', () => {
  it('returns the parsed manifest and the verified bytes when everything matches', async () => {
    const s = site();
    const fetch = fakeServer(BASE, { 'manifest.json': s.manifest, 'model.onnx': s.model });
    const v = await loadVerifiedManifest(BASE, s.pin, { fetch });
    expect(v.manifestSha256).toBe(s.pin);
    expect(v.manifest.artifacts[0]).toEqual(s.spec);
    expect(Array.from(v.artifacts.get('model.onnx')!)).toEqual(Array.from(s.model));
    expect(v.bytes).toBe(s.model.byteLength);
    expect(v.verifyMs).toBeGreaterThanOrEqual(0);
    expect(fetch.requests).toEqual([`${BASE}manifest.json`, `${BASE}model.onnx`]);
  });

  it('joins a base URL without a trailing slash', async () => {
    const s = site();
    const fetch = fakeServer(BASE, { 'manifest.json': s.manifest, 'model.onnx': s.model });
    await loadVerifiedManifest(BASE.slice(0, -1), s.pin, { fetch });
    expect(fetch.requests[0]).toBe(`${BASE}manifest.json`);
  });

  it('refuses a manifest whose hash is not the pinned one, before fetching any artifact', async () => {
    const s = site();
    // Same meaning, one extra space: still a different manifest.
    const altered = s.manifest.replace('"version": "1.2.3"', '"version":  "1.2.3"');
    const fetch = fakeServer(BASE, { 'manifest.json': altered, 'model.onnx': s.model });
    const e = await rejection(loadVerifiedManifest(BASE, s.pin, { fetch }));
    expect(e.code).toBe('model-manifest-tampered');
    expect(e.detail).toContain(s.pin);
    expect(e.detail).toContain(hex(altered));
    expect(fetch.requests).toEqual([`${BASE}manifest.json`]);
  });

  it('refuses a swapped model and its matching (re-hashed) manifest: the pin catches it', async () => {
    const evil = site(modelBytes(5000));
    const good = site();
    const fetch = fakeServer(BASE, { 'manifest.json': evil.manifest, 'model.onnx': evil.model });
    expect((await rejection(loadVerifiedManifest(BASE, good.pin, { fetch }))).code).toBe('model-manifest-tampered');
  });

  it('refuses a model with one changed byte under the genuine manifest', async () => {
    const s = site();
    const tampered = s.model.slice();
    tampered[100] ^= 0x80;
    const fetch = fakeServer(BASE, { 'manifest.json': s.manifest, 'model.onnx': tampered });
    const e = await rejection(loadVerifiedManifest(BASE, s.pin, { fetch }));
    expect(e.code).toBe('model-hash-mismatch');
    expect(e.detail).toContain('model.onnx');
    expect(e.message).toContain('model.onnx');
  });

  it('refuses a truncated model (size mismatch)', async () => {
    const s = site();
    const fetch = fakeServer(BASE, { 'manifest.json': s.manifest, 'model.onnx': s.model.subarray(0, 100) });
    expect((await rejection(loadVerifiedManifest(BASE, s.pin, { fetch }))).code).toBe('model-hash-mismatch');
  });

  it('refuses an invalid manifest even when its hash is pinned', async () => {
    const bad = JSON.stringify(validManifestObject({ chunking: { chunkSeconds: 1, overlapSeconds: 1 } }));
    const fetch = fakeServer(BASE, { 'manifest.json': bad });
    expect((await rejection(loadVerifiedManifest(BASE, hex(bad), { fetch }))).code).toBe('model-manifest-invalid');
  });

  it('reports missing files and network errors as model-fetch-failed', async () => {
    const s = site();
    let e = await rejection(loadVerifiedManifest(BASE, s.pin, { fetch: fakeServer(BASE, {}) }));
    expect(e.code).toBe('model-fetch-failed');
    expect(e.detail).toContain('manifest.json');
    expect(e.detail).toContain('404');
    e = await rejection(loadVerifiedManifest(BASE, s.pin, { fetch: fakeServer(BASE, { 'manifest.json': s.manifest }) }));
    expect(e.code).toBe('model-fetch-failed');
    expect(e.detail).toContain('model.onnx');
    e = await rejection(
      loadVerifiedManifest(BASE, s.pin, {
        fetch: async () => {
          throw new TypeError('Failed to fetch');
        },
      }),
    );
    expect(e.code).toBe('model-fetch-failed');
  });

  it('refuses to run with an app built without a valid pin', async () => {
    const s = site();
    const fetch = fakeServer(BASE, { 'manifest.json': s.manifest, 'model.onnx': s.model });
    expect((await rejection(loadVerifiedManifest(BASE, 'no-manifest-at-build-time', { fetch }))).code).toBe('internal');
    expect(fetch.requests).toEqual([]);
  });
});

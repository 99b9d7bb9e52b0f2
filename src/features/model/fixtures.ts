/** Test helpers only (imported by *.test.ts): a valid manifest and a fake same-origin server. */
import type { FetchFn } from './verify';

export function validManifestObject(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'voxsplit-model-manifest/1',
    id: 'voxsplit-test',
    name: 'VoxSplit test model',
    version: '1.2.3',
    task: 'speech-separation',
    sampleRate: 16000,
    opset: 17,
    licence: 'MIT',
    input: { name: 'mixture', dtype: 'float32', shape: [1, 'T'] },
    output: { name: 'sources', dtype: 'float32', shape: [1, 3, 'T'] },
    sources: [
      { index: 0, id: 'speaker1', kind: 'speaker', label: 'Speaker 1' },
      { index: 1, id: 'speaker2', kind: 'speaker', label: 'Speaker 2' },
      { index: 2, id: 'background', kind: 'background', label: 'Background' },
    ],
    artifacts: [{ role: 'model', file: 'model.onnx', bytes: 4, sha256: '0'.repeat(64) }],
    chunking: { chunkSeconds: 8, overlapSeconds: 1 },
    provenance: { dataset: 'synthetic' },
    ...overrides,
  };
}

/** A fetch that serves a fixed set of files under `base`, 404 otherwise, and records what was asked. */
export function fakeServer(base: string, files: Record<string, Uint8Array | string>): FetchFn & { requests: string[] } {
  const requests: string[] = [];
  const fn = async (url: string) => {
    requests.push(url);
    const name = url.startsWith(base) ? url.slice(base.length) : null;
    const body = name !== null ? files[name] : undefined;
    if (body === undefined) return new Response('not found', { status: 404, statusText: 'Not Found' });
    return new Response(typeof body === 'string' ? body : new Uint8Array(body));
  };
  return Object.assign(fn, { requests });
}

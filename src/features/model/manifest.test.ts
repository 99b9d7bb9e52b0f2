import { describe, expect, it } from 'vitest';
import { VoxError } from '../../lib/errors';
import { validManifestObject } from './fixtures';
import { modelArtifact, parseManifest, voiceprintArtifact } from './manifest';

const parse = (o: unknown) => parseManifest(JSON.stringify(o));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VoxError);
    return (e as VoxError).code;
  }
  return undefined;
}

describe('parseManifest', () => {
  it('accepts a valid manifest and normalises it', () => {
    const m = parse(validManifestObject());
    expect(m.id).toBe('voxsplit-test');
    expect(m.output.shape).toEqual([1, 3, 'T']);
    expect(m.sources.map((s) => s.kind)).toEqual(['speaker', 'speaker', 'background']);
    expect(m.chunking).toEqual({ chunkSeconds: 8, overlapSeconds: 1 });
    expect(modelArtifact(m).file).toBe('model.onnx');
  });

  it('accepts an optional voiceprint artifact beside the model', () => {
    const vp = { role: 'voiceprint', file: 'vp.onnx', bytes: 8, sha256: 'b'.repeat(64) };
    const m = parse(validManifestObject({ artifacts: [...(validManifestObject().artifacts as unknown[]), vp] }));
    expect(voiceprintArtifact(m)).toEqual(vp);
    expect(modelArtifact(m).file).toBe('model.onnx');
    expect(voiceprintArtifact(parse(validManifestObject()))).toBeUndefined();
  });

  it('defaults a missing provenance to {}', () => {
    const o = validManifestObject();
    delete o.provenance;
    expect(parse(o).provenance).toEqual({});
  });

  const invalid: [string, unknown][] = [
    ['not JSON', '{'],
    ['an array', []],
    ['a wrong format tag', validManifestObject({ format: 'voxsplit-model-manifest/2' })],
    ['an empty id', validManifestObject({ id: '' })],
    ['a numeric version', validManifestObject({ version: 1 })],
    ['too few sources', validManifestObject({ sources: (validManifestObject().sources as unknown[]).slice(0, 2) })],
    ['an unknown source kind', validManifestObject({ sources: [{ index: 0, id: 'a', kind: 'noise', label: 'A' }, { index: 1, id: 'b', kind: 'speaker', label: 'B' }, { index: 2, id: 'c', kind: 'speaker', label: 'C' }] })],
    ['out-of-order source indices', validManifestObject({ sources: [{ index: 1, id: 'a', kind: 'speaker', label: 'A' }, { index: 0, id: 'b', kind: 'speaker', label: 'B' }, { index: 2, id: 'c', kind: 'background', label: 'C' }] })],
    ['duplicate source ids', validManifestObject({ sources: [{ index: 0, id: 'a', kind: 'speaker', label: 'A' }, { index: 1, id: 'a', kind: 'speaker', label: 'B' }, { index: 2, id: 'c', kind: 'background', label: 'C' }] })],
    ['no artifacts', validManifestObject({ artifacts: [] })],
    ['a voiceprint but no model', validManifestObject({ artifacts: [{ role: 'voiceprint', file: 'vp.onnx', bytes: 4, sha256: '0'.repeat(64) }] })],
    ['two models', validManifestObject({ artifacts: [{ role: 'model', file: 'a.onnx', bytes: 4, sha256: '0'.repeat(64) }, { role: 'model', file: 'b.onnx', bytes: 4, sha256: '0'.repeat(64) }] })],
    ['one file under two roles', validManifestObject({ artifacts: [{ role: 'model', file: 'a.onnx', bytes: 4, sha256: '0'.repeat(64) }, { role: 'voiceprint', file: 'a.onnx', bytes: 4, sha256: '0'.repeat(64) }] })],
    ['a path in an artifact name', validManifestObject({ artifacts: [{ role: 'model', file: '../evil.onnx', bytes: 4, sha256: '0'.repeat(64) }] })],
    ['a URL as artifact name', validManifestObject({ artifacts: [{ role: 'model', file: 'https://cdn.example/m.onnx', bytes: 4, sha256: '0'.repeat(64) }] })],
    ['an uppercase hash', validManifestObject({ artifacts: [{ role: 'model', file: 'm.onnx', bytes: 4, sha256: 'A'.repeat(64) }] })],
    ['a short hash', validManifestObject({ artifacts: [{ role: 'model', file: 'm.onnx', bytes: 4, sha256: 'ab' }] })],
    ['zero bytes', validManifestObject({ artifacts: [{ role: 'model', file: 'm.onnx', bytes: 0, sha256: '0'.repeat(64) }] })],
    ['fractional bytes', validManifestObject({ artifacts: [{ role: 'model', file: 'm.onnx', bytes: 1.5, sha256: '0'.repeat(64) }] })],
    ['a wrong artifact role', validManifestObject({ artifacts: [{ role: 'weights', file: 'm.onnx', bytes: 4, sha256: '0'.repeat(64) }] })],
    ['an overlap of half the chunk', validManifestObject({ chunking: { chunkSeconds: 2, overlapSeconds: 1 } })],
    ['a zero chunk', validManifestObject({ chunking: { chunkSeconds: 0, overlapSeconds: 0 } })],
    ['no chunking', validManifestObject({ chunking: undefined })],
  ];
  for (const [what, value] of invalid) {
    it(`refuses ${what} with model-manifest-invalid`, () => {
      expect(codeOf(() => parseManifest(typeof value === 'string' ? value : JSON.stringify(value)))).toBe('model-manifest-invalid');
    });
  }

  const contract: [string, Record<string, unknown>][] = [
    ['a 44.1 kHz model', { sampleRate: 44100 }],
    ['opset 18', { opset: 18 }],
    ['another input name', { input: { name: 'audio', dtype: 'float32', shape: [1, 'T'] } }],
    ['another output name', { output: { name: 'out', dtype: 'float32', shape: [1, 3, 'T'] } }],
    ['float16 I/O', { input: { name: 'mixture', dtype: 'float16', shape: [1, 'T'] } }],
    ['a fixed-length input', { input: { name: 'mixture', dtype: 'float32', shape: [1, 16000] } }],
    ['a 2-D output', { output: { name: 'sources', dtype: 'float32', shape: [3, 'T'] } }],
    ['zero outputs', { output: { name: 'sources', dtype: 'float32', shape: [1, 0, 'T'] } }],
  ];
  for (const [what, o] of contract) {
    it(`refuses ${what} with model-contract-broken`, () => {
      expect(codeOf(() => parse(validManifestObject(o)))).toBe('model-contract-broken');
    });
  }
});

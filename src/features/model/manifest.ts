/**
 * The model manifest format (public/models/manifest.json), written by
 * training/manifest.py and read here. This file is the single definition of
 * the format and of the model I/O contract on the app side.
 */
import { VoxError } from '../../lib/errors';
import { MODEL_SAMPLE_RATE } from '../../lib/limits';

export const MANIFEST_FORMAT = 'voxsplit-model-manifest/1';

/** The model contract: input `mixture` float32 [1,T] mono 16 kHz, output `sources` float32 [1,S,T]. */
export const CONTRACT = {
  inputName: 'mixture',
  outputName: 'sources',
  dtype: 'float32',
  sampleRate: MODEL_SAMPLE_RATE,
  maxOpset: 17,
} as const;

/**
 * The voiceprint contract (optional artifact, role "voiceprint"): input `audio` float32 [B,T] mono 16 kHz, output
 * `embedding` float32 [B,D], unit-length rows. The associate stage uses it to keep each voice on its own track.
 */
export const VOICEPRINT_CONTRACT = {
  inputName: 'audio',
  outputName: 'embedding',
} as const;

export type SourceKind = 'speaker' | 'background';

export interface SourceSpec {
  index: number;
  id: string;
  kind: SourceKind;
  label: string;
}

export type ArtifactRole = 'model' | 'voiceprint';

export interface ArtifactSpec {
  /** 'model': the separator (required); 'voiceprint': the speaker embedding of the associate stage (optional). */
  role: ArtifactRole;
  /** Relative to the manifest's folder. */
  file: string;
  bytes: number;
  /** Lowercase hex SHA-256. */
  sha256: string;
}

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  name: string;
  version: string;
  task: string;
  sampleRate: number;
  opset: number;
  licence: string;
  input: { name: string; dtype: string; shape: [1, 'T'] };
  output: { name: string; dtype: string; shape: [1, number, 'T'] };
  sources: SourceSpec[];
  artifacts: ArtifactSpec[];
  chunking: { chunkSeconds: number; overlapSeconds: number };
  provenance: Record<string, unknown>;
}

function fail(why: string): never {
  throw new VoxError('model-manifest-invalid', why);
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(`"${key}" must be a non-empty string.`);
  return v;
}

function num(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`"${key}" must be a number.`);
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} must be an object.`);
  return v as Record<string, unknown>;
}

const SAFE_FILE = /^[A-Za-z0-9._-]+$/;

/** Parses and validates a manifest; throws VoxError('model-manifest-invalid' | 'model-contract-broken'). */
export function parseManifest(text: string): ModelManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('It is not valid JSON.');
  }
  const m = obj(raw, 'The manifest');
  if (m.format !== MANIFEST_FORMAT) fail(`Unknown format "${String(m.format)}"; expected "${MANIFEST_FORMAT}".`);
  const id = str(m, 'id');
  const name = str(m, 'name');
  const version = str(m, 'version');
  const task = str(m, 'task');
  const licence = str(m, 'licence');
  const sampleRate = num(m, 'sampleRate');
  const opset = num(m, 'opset');

  const input = obj(m.input, '"input"');
  const output = obj(m.output, '"output"');
  const inShape = input.shape;
  const outShape = output.shape;
  if (!Array.isArray(inShape) || !Array.isArray(outShape)) fail('"input.shape" and "output.shape" must be arrays.');

  const contractProblems: string[] = [];
  if (sampleRate !== CONTRACT.sampleRate) contractProblems.push(`sample rate ${sampleRate} (must be ${CONTRACT.sampleRate})`);
  if (opset > CONTRACT.maxOpset) contractProblems.push(`opset ${opset} (must be ≤ ${CONTRACT.maxOpset})`);
  if (input.name !== CONTRACT.inputName) contractProblems.push(`input "${String(input.name)}" (must be "${CONTRACT.inputName}")`);
  if (output.name !== CONTRACT.outputName) contractProblems.push(`output "${String(output.name)}" (must be "${CONTRACT.outputName}")`);
  if (input.dtype !== CONTRACT.dtype || output.dtype !== CONTRACT.dtype) contractProblems.push('dtype (must be float32)');
  if (inShape.length !== 2 || inShape[0] !== 1 || inShape[1] !== 'T') contractProblems.push('input shape (must be [1,"T"])');
  const s = outShape[1];
  if (outShape.length !== 3 || outShape[0] !== 1 || typeof s !== 'number' || !Number.isInteger(s) || s < 1 || outShape[2] !== 'T') {
    contractProblems.push('output shape (must be [1,S,"T"])');
  }
  if (contractProblems.length) throw new VoxError('model-contract-broken', `Manifest declares ${contractProblems.join(', ')}.`);
  const numSources = s as number;

  if (!Array.isArray(m.sources) || m.sources.length !== numSources) fail(`"sources" must list exactly ${numSources} outputs.`);
  const sources = m.sources.map((v, i): SourceSpec => {
    const o = obj(v, `sources[${i}]`);
    const kind = o.kind;
    if (kind !== 'speaker' && kind !== 'background') fail(`sources[${i}].kind must be "speaker" or "background".`);
    if (o.index !== i) fail(`sources[${i}].index must be ${i}.`);
    return { index: i, id: str(o, 'id'), kind, label: str(o, 'label') };
  });
  if (new Set(sources.map((x) => x.id)).size !== sources.length) fail('Source ids must be unique.');

  if (!Array.isArray(m.artifacts) || m.artifacts.length === 0) fail('"artifacts" must list at least one file.');
  const artifacts = m.artifacts.map((v, i): ArtifactSpec => {
    const o = obj(v, `artifacts[${i}]`);
    const role = o.role;
    if (role !== 'model' && role !== 'voiceprint') fail(`artifacts[${i}].role must be "model" or "voiceprint".`);
    const file = str(o, 'file');
    if (!SAFE_FILE.test(file)) fail(`artifacts[${i}].file must be a plain file name.`);
    const bytes = num(o, 'bytes');
    if (!Number.isInteger(bytes) || bytes <= 0) fail(`artifacts[${i}].bytes must be a positive integer.`);
    const sha256 = str(o, 'sha256');
    if (!/^[0-9a-f]{64}$/.test(sha256)) fail(`artifacts[${i}].sha256 must be 64 lowercase hex digits.`);
    return { role, file, bytes, sha256 };
  });
  for (const role of ['model', 'voiceprint'] as const) {
    const n = artifacts.filter((a) => a.role === role).length;
    if (n > 1) fail(`"artifacts" lists ${n} files with role "${role}"; at most one.`);
  }
  if (!artifacts.some((a) => a.role === 'model')) fail('"artifacts" must list the separation model (role "model").');
  if (new Set(artifacts.map((a) => a.file)).size !== artifacts.length) fail('"artifacts" lists a file twice.');

  const chunking = obj(m.chunking, '"chunking"');
  const chunkSeconds = num(chunking, 'chunkSeconds');
  const overlapSeconds = num(chunking, 'overlapSeconds');
  if (chunkSeconds <= 0 || overlapSeconds < 0 || overlapSeconds * 2 >= chunkSeconds) {
    fail('"chunking" needs chunkSeconds > 0 and 0 ≤ overlapSeconds < chunkSeconds / 2.');
  }
  const provenance = m.provenance === undefined ? {} : obj(m.provenance, '"provenance"');

  return {
    format: MANIFEST_FORMAT,
    id,
    name,
    version,
    task,
    sampleRate,
    opset,
    licence,
    input: { name: CONTRACT.inputName, dtype: CONTRACT.dtype, shape: [1, 'T'] },
    output: { name: CONTRACT.outputName, dtype: CONTRACT.dtype, shape: [1, numSources, 'T'] },
    sources,
    artifacts,
    chunking: { chunkSeconds, overlapSeconds },
    provenance,
  };
}

/** The voiceprint artifact, when the manifest ships one. */
export function voiceprintArtifact(m: ModelManifest): ArtifactSpec | undefined {
  return m.artifacts.find((x) => x.role === 'voiceprint');
}

export function modelArtifact(m: ModelManifest): ArtifactSpec {
  const a = m.artifacts.find((x) => x.role === 'model');
  if (!a) throw new VoxError('model-manifest-invalid', 'No artifact with role "model".');
  return a;
}

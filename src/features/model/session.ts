/**
 * The only place an InferenceSession is created: from a VerifiedModel's bytes
 * (never a URL), so nothing unverified can run. Takes the ORT module as an
 * argument: onnxruntime-web in the worker, onnxruntime-node in tests.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-web';
import { VoxError } from '../../lib/errors';
import { CONTRACT, modelArtifact, VOICEPRINT_CONTRACT, voiceprintArtifact, type ModelManifest } from './manifest';
import type { VerifiedBytes, VerifiedModel } from './verify';

/** The slice of onnxruntime-web / onnxruntime-node this module uses. */
export interface OrtLike {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor;
}

export interface ModelRunner {
  manifest: ModelManifest;
  /** Runs one window [T] → S outputs of T samples each (manifest order). */
  run(window: Float32Array): Promise<Float32Array[]>;
  release(): Promise<void>;
}

/**
 * Session options of the app's separate worker, per backend. On WASM the int8 weights are
 * dequantized once at load and the MatMuls run in float32: ORT's QDQ fusion into MatMulNBits
 * ran slower in its WASM build (bench, bare session.run of one 8 s window, 1 thread: 349 → 243 ms).
 */
export function sessionOptionsFor(backend: 'wasm' | 'webgpu'): InferenceSession.SessionOptions {
  return {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(backend === 'wasm' ? { extra: { session: { disable_quant_qdq: '1' } } } : {}),
  };
}

/** Wraps every run, e.g. in WebGPU error scopes, so a backend fault becomes an error instead of wrong output. */
export type RunGuard = <T>(run: () => Promise<T>) => Promise<T>;

/** A session from verified bytes, its failures sorted into the app's error codes. */
async function openSession(ort: OrtLike, bytes: VerifiedBytes, file: string, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', ...options });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/memory|allocat/i.test(msg)) throw new VoxError('out-of-memory', `${file}: ${msg}`, { cause: e });
    // e.g. "no available backend found. ERR: [webgpu] …": the execution provider failed, not the model.
    if (/backend|webgpu|execution provider/i.test(msg)) throw new VoxError('backend-unavailable', msg, { cause: e });
    throw new VoxError('model-contract-broken', `${file} could not be loaded: ${msg}`, { cause: e });
  }
}

export async function createVerifiedSession(
  ort: OrtLike,
  verified: VerifiedModel,
  options: InferenceSession.SessionOptions = {},
  guard: RunGuard = (run) => run(),
): Promise<ModelRunner> {
  const { manifest } = verified;
  const spec = modelArtifact(manifest);
  const bytes = verified.artifacts.get(spec.file);
  if (!bytes) throw new VoxError('internal', `${spec.file} was not verified.`);

  const session = await openSession(ort, bytes, spec.file, options);
  if (!session.inputNames.includes(CONTRACT.inputName) || !session.outputNames.includes(CONTRACT.outputName)) {
    const names = `inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]`;
    await session.release().catch(() => {});
    throw new VoxError('model-contract-broken', `${spec.file} has ${names}; expected input "${CONTRACT.inputName}" and output "${CONTRACT.outputName}".`);
  }
  const S = manifest.sources.length;

  return {
    manifest,
    async run(window) {
      const T = window.length;
      const input = new ort.Tensor('float32', window, [1, T]);
      let out: Tensor | undefined;
      try {
        const result = await guard(() => session.run({ [CONTRACT.inputName]: input }, [CONTRACT.outputName]));
        out = result[CONTRACT.outputName];
        const dims = out?.dims ?? [];
        if (out?.type !== 'float32' || dims.length !== 3 || dims[0] !== 1 || dims[1] !== S || dims[2] !== T) {
          throw new VoxError('model-contract-broken', `For input [1,${T}] the model returned ${out?.type} [${dims.join(',')}]; expected float32 [1,${S},${T}].`);
        }
        const data = (await out.getData()) as Float32Array;
        for (let i = 0; i < data.length; i++) {
          if (!Number.isFinite(data[i])) throw new VoxError('separation-failed', `The model produced a non-finite value (${data[i]}) at output ${i}.`);
        }
        // Own copies: the tensor's storage is released below.
        return Array.from({ length: S }, (_, s) => data.slice(s * T, (s + 1) * T));
      } catch (e) {
        if (e instanceof VoxError) throw e;
        const msg = e instanceof Error ? e.message : String(e);
        if (/memory|allocat/i.test(msg)) throw new VoxError('out-of-memory', msg, { cause: e });
        throw new VoxError('separation-failed', msg, { cause: e });
      } finally {
        input.dispose();
        out?.dispose();
      }
    },
    release: () => session.release(),
  };
}

export interface VoiceprintRunner {
  /** Voiceprint of mono 16 kHz speech (at least 512 samples): a unit-length vector. */
  embed(audio: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * The voiceprint session of the associate stage, from the verified bytes of the manifest's "voiceprint" artifact;
 * undefined when the manifest ships none (the associate stage is then off).
 */
export async function createVoiceprintSession(
  ort: OrtLike,
  verified: VerifiedModel,
  options: InferenceSession.SessionOptions = {},
): Promise<VoiceprintRunner | undefined> {
  const spec = voiceprintArtifact(verified.manifest);
  if (!spec) return undefined;
  const bytes = verified.artifacts.get(spec.file);
  if (!bytes) throw new VoxError('internal', `${spec.file} was not verified.`);
  const session = await openSession(ort, bytes, spec.file, options);
  const { inputName, outputName } = VOICEPRINT_CONTRACT;
  if (!session.inputNames.includes(inputName) || !session.outputNames.includes(outputName)) {
    await session.release().catch(() => {});
    throw new VoxError('model-contract-broken', `${spec.file} has inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]; expected "${inputName}" and "${outputName}".`);
  }
  return {
    async embed(audio) {
      const input = new ort.Tensor('float32', audio, [1, audio.length]);
      let out: Tensor | undefined;
      try {
        out = (await session.run({ [inputName]: input }, [outputName]))[outputName];
        const dims = out?.dims ?? [];
        if (out?.type !== 'float32' || dims.length !== 2 || dims[0] !== 1) {
          throw new VoxError('model-contract-broken', `${spec.file} returned ${out?.type} [${dims.join(',')}]; expected float32 [1,D].`);
        }
        const e = ((await out.getData()) as Float32Array).slice();
        let norm = 0;
        for (const v of e) norm += v * v;
        if (!(Math.abs(norm - 1) < 1e-3)) throw new VoxError('model-contract-broken', `${spec.file} returned a vector of length ${Math.sqrt(norm)}; expected 1.`);
        return e;
      } catch (e) {
        if (e instanceof VoxError) throw e;
        throw new VoxError('separation-failed', e instanceof Error ? e.message : String(e), { cause: e });
      } finally {
        input.dispose();
        out?.dispose();
      }
    },
    release: () => session.release(),
  };
}

/** What the separate worker and its client both speak. */
import type { PcmChunk, SeparatedBlock } from '../../pipeline/types';
import type { Backend, BackendSetting } from '../model/backend';
import type { SourceSpec } from '../model/manifest';

export type { Backend, BackendSetting };

export interface LoadOptions {
  backend: BackendSetting;
  /** Folder holding manifest.json and the model; default `${import.meta.env.BASE_URL}models/`. */
  modelBaseUrl?: string;
  /** WASM threads wanted (benchmarks); capped by isolation and cores. Default: as many as allowed. */
  threads?: number;
  /**
   * Run the associate stage after separation (keep each voice on its own track across turns), when the manifest
   * ships a voiceprint. Default true.
   */
  associate?: boolean;
}

export interface ModelInfo {
  id: string;
  name: string;
  version: string;
  /** Verified SHA-256 of the model file. */
  sha256: string;
  /** SHA-256 of manifest.json (equal to the pin built into the app). */
  manifestSha256: string;
  /** Total verified bytes of the model artifacts. */
  bytes: number;
  backend: Backend;
  threads: number;
  adapter?: string;
  sources: SourceSpec[];
  chunking: { chunkSeconds: number; overlapSeconds: number };
  /** Fetching and hashing the manifest and every artifact. */
  verifyMs: number;
  /** Importing onnxruntime-web and creating the session. */
  sessionMs: number;
  /** Verified SHA-256 of the voiceprint when the associate stage runs; undefined when it is off or not shipped. */
  voiceprintSha256?: string;
}

/** The worker's comlink API. Errors cross as encodeForWorkerBoundary(); the client decodes them. */
export interface SeparateWorkerApi {
  load(opts: LoadOptions & { modelBaseUrl: string }): Promise<ModelInfo>;
  push(chunk: PcmChunk): Promise<SeparatedBlock[]>;
  finish(): Promise<SeparatedBlock[]>;
}

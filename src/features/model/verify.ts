/**
 * The one verifier every model artifact goes through. The manifest's own
 * SHA-256 is pinned in the built app (__MODEL_MANIFEST_SHA256__); the manifest
 * pins each artifact's size and SHA-256. Sessions are created only from the
 * bytes this module returns (see session.ts), never from a URL, so there is
 * no path that runs an unverified model.
 */
import { VoxError } from '../../lib/errors';
import { parseManifest, type ArtifactSpec, type ModelManifest } from './manifest';

declare const verifiedBrand: unique symbol;
/** Bytes whose size and SHA-256 matched the pinned manifest. Only verify.ts makes these. */
export type VerifiedBytes = Uint8Array & { readonly [verifiedBrand]: true };

export interface VerifiedModel {
  manifest: ModelManifest;
  /** SHA-256 of manifest.json as fetched (equal to the pin). */
  manifestSha256: string;
  /** Verified bytes of every artifact, keyed by artifact file name. */
  artifacts: Map<string, VerifiedBytes>;
  /** Total bytes of the artifacts. */
  bytes: number;
  /** Wall time of fetching and hashing the manifest and every artifact. */
  verifyMs: number;
}

export type FetchFn = (url: string, init?: RequestInit) => Promise<Response>;

function asBytes(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

/** Lowercase hex SHA-256 via SubtleCrypto (available in windows and workers on secure origins). */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new VoxError('internal', 'SubtleCrypto is unavailable (the page must be served over HTTPS or from localhost).');
  }
  const digest = await subtle.digest('SHA-256', asBytes(bytes) as Uint8Array<ArrayBuffer>);
  const out = new Uint8Array(digest);
  let hex = '';
  for (let i = 0; i < out.length; i++) hex += out[i].toString(16).padStart(2, '0');
  return hex;
}

/**
 * Checks one artifact's bytes against its manifest entry. Throws
 * VoxError('model-hash-mismatch') naming the file, expected and actual
 * size or hash. Returns the same bytes, now typed as verified.
 */
export async function verifyArtifact(bytes: ArrayBuffer | Uint8Array, spec: ArtifactSpec): Promise<VerifiedBytes> {
  const view = asBytes(bytes);
  if (view.byteLength !== spec.bytes) {
    throw new VoxError(
      'model-hash-mismatch',
      `${spec.file}: expected ${spec.bytes} bytes with SHA-256 ${spec.sha256}, got ${view.byteLength} bytes.`,
    );
  }
  const actual = await sha256Hex(view);
  if (actual !== spec.sha256) {
    throw new VoxError('model-hash-mismatch', `${spec.file}: expected SHA-256 ${spec.sha256}, got ${actual}.`);
  }
  return view as VerifiedBytes;
}

async function fetchBytes(fetchFn: FetchFn, url: string, what: string, signal?: AbortSignal): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetchFn(url, { credentials: 'same-origin', signal });
  } catch (e) {
    if (signal?.aborted) throw new VoxError('cancelled');
    throw new VoxError('model-fetch-failed', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!res.ok) throw new VoxError('model-fetch-failed', `${what}: HTTP ${res.status} ${res.statusText}`.trim());
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (signal?.aborted) throw new VoxError('cancelled');
    throw new VoxError('model-fetch-failed', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function joinUrl(baseUrl: string, file: string): string {
  return baseUrl.endsWith('/') ? baseUrl + file : `${baseUrl}/${file}`;
}

/**
 * Fetches `${baseUrl}manifest.json`, refuses it unless its SHA-256 equals
 * `pinnedSha256` ('model-manifest-tampered'), parses it, then fetches and
 * verifies every artifact ('model-hash-mismatch' on any size/hash
 * difference). Nothing is returned unless everything matched.
 */
export async function loadVerifiedManifest(
  baseUrl: string,
  pinnedSha256: string,
  opts: { fetch?: FetchFn; signal?: AbortSignal; now?: () => number } = {},
): Promise<VerifiedModel> {
  const fetchFn: FetchFn = opts.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const pin = pinnedSha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(pin)) throw new VoxError('internal', 'The app was built without a valid model manifest pin.');

  const manifestBytes = await fetchBytes(fetchFn, joinUrl(baseUrl, 'manifest.json'), 'manifest.json', opts.signal);
  const manifestSha256 = await sha256Hex(manifestBytes);
  if (manifestSha256 !== pin) {
    throw new VoxError('model-manifest-tampered', `manifest.json: expected SHA-256 ${pin}, got ${manifestSha256}.`);
  }
  const manifest = parseManifest(new TextDecoder('utf-8', { fatal: false }).decode(manifestBytes));

  const artifacts = new Map<string, VerifiedBytes>();
  let bytes = 0;
  for (const spec of manifest.artifacts) {
    const raw = await fetchBytes(fetchFn, joinUrl(baseUrl, spec.file), spec.file, opts.signal);
    artifacts.set(spec.file, await verifyArtifact(raw, spec));
    bytes += raw.byteLength;
  }
  return { manifest, manifestSha256, artifacts, bytes, verifyMs: now() - t0 };
}

/**
 * Which built engine files are optional, in one place for the build (asset
 * names, precache list) and the service worker (cache on first use).
 *
 * Every browser runs ffmpeg's single-threaded core and ORT's WASM build; those
 * are precached. ffmpeg core-mt (only on request) and ORT's JSEP build (only on
 * a real GPU, or WebGPU forced in Settings) are 60 MB together that most
 * visitors never run: they are fetched when first used and cached then.
 */

/** File-name globs (relative to the asset folder) of the optional engines. */
export const LAZY_ENGINE_FILES = ['ffmpeg-core-mt-*', 'ffmpeg-core.worker-*', 'ort-wasm-*.jsep-*.wasm'];

const LAZY_ENGINE_RE = new RegExp(
  LAZY_ENGINE_FILES.map((glob) => `^${glob.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`).join('|'),
);

/** The same globs as a test on a file name, e.g. a URL's last path segment (service worker side). */
export function isLazyEngineFile(fileName: string): boolean {
  return LAZY_ENGINE_RE.test(fileName);
}

interface AssetInfo {
  names?: readonly string[];
  originalFileNames?: readonly string[];
}

/** Rolldown assetFileNames: core-mt's files get their own prefix (both cores' files are called ffmpeg-core.*). */
export function engineAssetFileNames(info: AssetInfo): string {
  const original = info.originalFileNames?.[0] ?? '';
  if (original.includes('@ffmpeg/core-mt/') && /ffmpeg-core\.(js|wasm)$/.test(original)) {
    return 'assets/ffmpeg-core-mt-[hash][extname]';
  }
  return 'assets/[name]-[hash][extname]';
}

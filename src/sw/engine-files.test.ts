import { describe, expect, it } from 'vitest';
import { engineAssetFileNames, isLazyEngineFile, LAZY_ENGINE_FILES } from './engine-files';

const globToRegExp = (g: string) => new RegExp(`^${g.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);

const built = {
  'ffmpeg-core-mt-Doc-EuJY.wasm': true,
  'ffmpeg-core-mt-CcyiuWOr.js': true,
  'ffmpeg-core.worker-Bkuqk9lw.js': true,
  'ort-wasm-simd-threaded.jsep-MDYUKy93.wasm': true,
  'ffmpeg-core-CgUfceKH.wasm': false,
  'ffmpeg-core-CI9Irx9p.js': false,
  'ort-wasm-simd-threaded-DcHrbrbl.wasm': false,
  'ort.bundle.min-dhxERBve.js': false,
  'voxsplit-dp-small-int8.onnx': false,
};

describe('optional engine files', () => {
  it('the precache globs and the service worker test agree on every built engine file', () => {
    for (const [name, lazy] of Object.entries(built)) {
      expect(isLazyEngineFile(name), name).toBe(lazy);
      expect(LAZY_ENGINE_FILES.some((g) => globToRegExp(g).test(name)), name).toBe(lazy);
    }
  });

  it("names core-mt's files apart from core-st's", () => {
    expect(engineAssetFileNames({ originalFileNames: ['node_modules/@ffmpeg/core-mt/dist/esm/ffmpeg-core.wasm'] })).toBe('assets/ffmpeg-core-mt-[hash][extname]');
    expect(engineAssetFileNames({ originalFileNames: ['node_modules/@ffmpeg/core-mt/dist/esm/ffmpeg-core.js'] })).toBe('assets/ffmpeg-core-mt-[hash][extname]');
    expect(engineAssetFileNames({ originalFileNames: ['node_modules/@ffmpeg/core/dist/esm/ffmpeg-core.wasm'] })).toBe('assets/[name]-[hash][extname]');
    expect(engineAssetFileNames({ originalFileNames: ['node_modules/@ffmpeg/core-mt/dist/esm/ffmpeg-core.worker.js'] })).toBe('assets/[name]-[hash][extname]');
    expect(engineAssetFileNames({})).toBe('assets/[name]-[hash][extname]');
  });
});

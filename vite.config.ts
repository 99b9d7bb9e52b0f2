import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { contentSecurityPolicy, isolationHeaders } from './src/lib/security-headers.ts';
import { precompressed } from './scripts/precompress.ts';
import { LAZY_ENGINE_FILES, engineAssetFileNames } from './src/sw/engine-files.ts';

/** The hash of the shipped manifest is compiled into the app: a swapped manifest is refused. */
function manifestPin(command: 'build' | 'serve'): string {
  const file = 'public/models/manifest.json';
  if (!existsSync(file)) {
    // Unit tests need no model; a build without one would ship an app that can never run.
    if (command === 'build') throw new Error(`${file} is missing: export a model first (see training/README or MODEL_CARD.md).`);
    return 'no-manifest-at-build-time';
  }
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The built index.html carries the CSP itself, so it holds on any static host. */
function cspMeta(): Plugin {
  return {
    name: 'voxsplit-csp-meta',
    apply: 'build',
    transformIndexHtml: (html) =>
      html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy('build')}" />`),
  };
}

/** dist/_headers: the same headers for static hosts that read that file (Netlify, Cloudflare Pages). */
function staticHostHeaders(): Plugin {
  return {
    name: 'voxsplit-static-headers',
    apply: 'build',
    generateBundle() {
      const lines = Object.entries({ ...isolationHeaders, 'Content-Security-Policy': contentSecurityPolicy('build') }).map(([k, v]) => `  ${k}: ${v}`);
      this.emitFile({ type: 'asset', fileName: '_headers', source: `/*\n${lines.join('\n')}\n` });
    },
  };
}

export default defineConfig(({ command }) => {
  const headers = {
    ...isolationHeaders,
    'Content-Security-Policy': contentSecurityPolicy(command === 'serve' ? 'dev' : 'build'),
  };
  return {
    plugins: [
      react(),
      cspMeta(),
      staticHostHeaders(),
      precompressed(),
      VitePWA({
        strategies: 'injectManifest',
        srcDir: 'src/sw',
        filename: 'sw.ts',
        registerType: 'autoUpdate',
        injectRegister: false,
        manifest: {
          name: 'VoxSplit — separate voices on your device',
          short_name: 'VoxSplit',
          description: 'Separate each voice and the background of a recording, entirely in your browser. Nothing is uploaded.',
          start_url: '.',
          scope: '.',
          display: 'standalone',
          background_color: '#101418',
          theme_color: '#101418',
          icons: [
            { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
            { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
            { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          ],
        },
        injectManifest: {
          globPatterns: ['**/*.{js,mjs,css,html,wasm,onnx,json,png,svg,webmanifest}'],
          // Engines only some browsers use (ffmpeg core-mt, ORT's WebGPU build) are
          // cached by the service worker when first used, not downloaded by everyone.
          globIgnores: LAZY_ENGINE_FILES.map((g) => `**/${g}`),
          // The ffmpeg and onnxruntime wasm files are ~15–33 MB each.
          maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
        },
        devOptions: { enabled: false },
      }),
    ],
    define: {
      __MODEL_MANIFEST_SHA256__: JSON.stringify(manifestPin(command)),
    },
    // Asset names tell the optional engines apart, so the service worker can leave them out of the precache.
    worker: { format: 'es', rolldownOptions: { output: { assetFileNames: engineAssetFileNames } } },
    optimizeDeps: { exclude: ['@ffmpeg/ffmpeg', '@ffmpeg/util', 'onnxruntime-web'] },
    build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
    server: { headers },
    preview: { headers },
    test: {
      include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
      environment: 'node',
    },
  };
});

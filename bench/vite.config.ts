/**
 * The benchmark page's build: bench/web/index.html, which imports the app's
 * own modules (separate client + worker, decode client + worker, verify).
 * Same worker format, same isolation and CSP headers and the same manifest pin
 * as the app (vite.config.ts); no React, no service worker.
 *
 *   npx vite build --config bench/vite.config.ts        → bench/.dist
 *   npx vite preview --config bench/vite.config.ts --port 4271 --strictPort
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';
import { contentSecurityPolicy, isolationHeaders } from '../src/lib/security-headers.ts';

const headers = { ...isolationHeaders, 'Content-Security-Policy': contentSecurityPolicy('build') };

export default defineConfig({
  root: '.',
  // public/ (with public/models) is served as in the app.
  publicDir: 'public',
  define: {
    __MODEL_MANIFEST_SHA256__: JSON.stringify(createHash('sha256').update(readFileSync('public/models/manifest.json')).digest('hex')),
  },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@ffmpeg/ffmpeg', '@ffmpeg/util', 'onnxruntime-web'] },
  build: {
    target: 'es2022',
    outDir: 'bench/.dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    rollupOptions: { input: { bench: 'bench/web/index.html' } },
  },
  preview: { headers },
  server: { headers },
  logLevel: 'warn',
});

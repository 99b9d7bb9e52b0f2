/** Bundles bench/lib/node-entry.ts (the app's own TS modules) for plain Node: no tsx needed. */
import { build } from 'vite';
import path from 'node:path';

export const NODE_LIB = path.resolve('bench/.cache/node/node-entry.mjs');

export async function buildNodeLib() {
  await build({
    configFile: false,
    logLevel: 'error',
    root: process.cwd(),
    publicDir: false,
    build: {
      ssr: 'bench/lib/node-entry.ts',
      outDir: 'bench/.cache/node',
      emptyOutDir: true,
      minify: false,
      rollupOptions: { output: { entryFileNames: 'node-entry.mjs', format: 'es' } },
    },
  });
  return NODE_LIB;
}

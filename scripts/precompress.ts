/**
 * Compressed copies of the built files, and a preview server that serves them.
 *
 * Why: the wasm files are 97 % of what a first visit downloads, and `vite
 * preview` compresses only text types on the fly, never application/wasm.
 * Brotli takes the two engines a browser uses (ffmpeg core-st 32 MB, ORT 14 MB)
 * to about 11 MB. The build writes `<file>.br` (quality 6: within 1 % of
 * quality 9 on the ffmpeg core, 5x faster) and `<file>.gz` next to each
 * compressible file; static hosts that serve precompressed files pick them up,
 * and `npm start` / the e2e server get them through the middleware below.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const COMPRESSIBLE = /\.(wasm|onnx|js|mjs|css|html|json|webmanifest|svg)$/;
const MIN_BYTES = 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.wasm': 'application/wasm',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.html': 'text/html',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.onnx': 'application/octet-stream',
};

export type Encoding = 'br' | 'gzip';

const SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Writes .br and .gz beside every compressible file of `dir` that compression shrinks by at least 10 %. */
export function compressDir(dir: string): { files: number; rawBytes: number; brBytes: number } {
  let files = 0;
  let rawBytes = 0;
  let brBytes = 0;
  for (const file of walk(dir)) {
    if (!COMPRESSIBLE.test(file)) continue;
    const raw = readFileSync(file);
    if (raw.length < MIN_BYTES) continue;
    const br = brotliCompressSync(raw, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
    });
    if (br.length > raw.length * 0.9) continue;
    writeFileSync(file + SUFFIX.br, br);
    writeFileSync(file + SUFFIX.gzip, gzipSync(raw, { level: 9 }));
    files++;
    rawBytes += raw.length;
    brBytes += br.length;
  }
  return { files, rawBytes, brBytes };
}

/** The encoding to answer with, from the request's Accept-Encoding, preferring brotli. */
export function pickEncoding(acceptEncoding: string | undefined): Encoding | null {
  const accepted = new Set(
    (acceptEncoding ?? '')
      .split(',')
      .map((part) => part.trim().split(';'))
      .filter(([, q]) => !q || Number(q.trim().replace(/^q=/, '')) > 0)
      .map(([name]) => name.trim().toLowerCase()),
  );
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip')) return 'gzip';
  return null;
}

/** The file under `root` a request path names, or null if it leaves `root`. */
export function fileFor(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  const file = normalize(join(root, decoded));
  return file.startsWith(normalize(root) + sep) ? file : null;
}

/**
 * The compressed sibling to serve for `file`, or null. A sibling older than
 * its file is stale (the file was replaced after the build) and never served:
 * what goes out must be what is on disk now.
 */
export function freshCompressed(file: string, encoding: Encoding): { path: string; size: number; mtimeMs: number } | null {
  const path = file + SUFFIX[encoding];
  const compressed = statSync(path, { throwIfNoEntry: false });
  const original = statSync(file, { throwIfNoEntry: false });
  if (!compressed || !original || compressed.mtimeMs < original.mtimeMs) return null;
  return { path, size: compressed.size, mtimeMs: compressed.mtimeMs };
}

/** The build step, and a preview-server middleware that answers with the compressed copies (with the preview's own headers). */
export function precompressed(): Plugin {
  let outDir = 'dist';
  return {
    name: 'voxsplit-precompressed',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle: {
      // After vite-plugin-pwa wrote sw.js, so it is compressed too.
      order: 'post',
      handler() {
        if (!existsSync(outDir)) return;
        const { files, rawBytes, brBytes } = compressDir(outDir);
        console.log(`precompressed ${files} files: ${(rawBytes / 1e6).toFixed(1)} MB → ${(brBytes / 1e6).toFixed(1)} MB brotli`);
      },
    },
    configurePreviewServer(server) {
      const root = server.config.build.outDir;
      const headers = server.config.preview.headers ?? {};
      server.middlewares.use((req, res, next) => {
        if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.url) return next();
        const file = fileFor(root, req.url);
        const type = file ? CONTENT_TYPES[extname(file)] : undefined;
        const encoding = pickEncoding(req.headers['accept-encoding']);
        const compressed = file && type && encoding ? freshCompressed(file, encoding) : null;
        if (!compressed || !encoding) return next();
        const { path, size, mtimeMs } = compressed;
        const etag = `"${size.toString(36)}-${Math.round(mtimeMs).toString(36)}-${encoding}"`;
        res.setHeader('ETag', etag);
        if (req.headers['if-none-match'] === etag) {
          res.statusCode = 304;
          return res.end();
        }
        const body = readFileSync(path);
        for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v);
        res.setHeader('Content-Type', type ?? 'application/octet-stream');
        res.setHeader('Content-Encoding', encoding);
        res.setHeader('Content-Length', body.length);
        res.setHeader('Vary', 'Accept-Encoding');
        res.setHeader('Cache-Control', 'no-cache');
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    },
  };
}

/**
 * The isolation and content-security headers, in one place: the dev and
 * preview servers send them, the build embeds the CSP, and README documents
 * them for static hosting.
 */
export const isolationHeaders = {
  // Cross-origin isolation unlocks SharedArrayBuffer, hence wasm threads.
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
} as const;

export function contentSecurityPolicy(mode: 'dev' | 'build'): string {
  const dev = mode === 'dev';
  return [
    "default-src 'self'",
    // wasm-unsafe-eval: compiling ffmpeg.wasm and onnxruntime-web. The dev server
    // alone needs inline scripts (React refresh preamble) and a websocket (HMR).
    `script-src 'self' 'wasm-unsafe-eval'${dev ? " 'unsafe-inline'" : ''}`,
    "worker-src 'self'",
    `connect-src 'self'${dev ? ' ws://localhost:* ws://127.0.0.1:*' : ''}`,
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    "manifest-src 'self'",
  ].join('; ');
}

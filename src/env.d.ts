/** SHA-256 (hex) of public/models/manifest.json at build time; see vite.config.ts. */
declare const __MODEL_MANIFEST_SHA256__: string;

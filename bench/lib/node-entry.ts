/**
 * The app modules the Node side of the benchmark runs, bundled once by
 * bench/lib/build-node.mjs (Vite SSR build) into bench/.cache/node/, so the
 * native runs use exactly the app's verification, session and chunking code.
 */
export { loadVerifiedManifest } from '../../src/features/model/verify';
export { createVerifiedSession } from '../../src/features/model/session';
export { ChunkedSeparator, chunkGeometry } from '../../src/features/separate/chunking';
export { parseManifest } from '../../src/features/model/manifest';
export { CHUNK_SAMPLES } from '../../src/features/decode/shared';
export { VoiceAssociator } from '../../src/features/associate/associator';

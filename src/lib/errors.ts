/**
 * Every failure a user can meet, in one place. Each code carries the message
 * shown to the user and what they can do about it, so stages only pick a code
 * and never write user-facing text themselves.
 */
export type ErrorCode =
  | 'file-empty'
  | 'file-too-large'
  | 'file-too-long'
  | 'file-unreadable'
  | 'file-not-media'
  | 'file-truncated'
  | 'file-corrupt'
  | 'file-no-audio'
  | 'decode-failed'
  | 'model-manifest-invalid'
  | 'model-manifest-tampered'
  | 'model-hash-mismatch'
  | 'model-fetch-failed'
  | 'model-contract-broken'
  | 'backend-unavailable'
  | 'separation-failed'
  | 'out-of-memory'
  | 'export-failed'
  | 'cancelled'
  | 'internal';

interface ErrorText {
  title: string;
  action: string;
}

const TEXT: Record<ErrorCode, ErrorText> = {
  'file-empty': {
    title: 'This file is empty (0 bytes).',
    action: 'Pick the original recording again; the copy you chose may not have finished downloading or syncing.',
  },
  'file-too-large': {
    title: 'This file is larger than the size limit.',
    action: 'Trim it or export the audio track only (for example with ffmpeg -vn), then try again.',
  },
  'file-too-long': {
    title: 'This recording is longer than the duration limit.',
    action: 'Split it into shorter parts and separate each part.',
  },
  'file-unreadable': {
    title: 'The browser could not read this file.',
    action: 'Check that the file still exists and that you have permission to open it, then pick it again.',
  },
  'file-not-media': {
    title: 'This does not look like an audio or video file.',
    action: 'Choose a recording such as WAV, MP3, M4A, OGG, Opus, FLAC, WebM, MP4, MOV or MKV.',
  },
  'file-truncated': {
    title: 'This file is cut off: its end is missing.',
    action: 'The download or copy was probably interrupted. Copy the original again and retry.',
  },
  'file-corrupt': {
    title: 'This file is damaged and could not be decoded.',
    action: 'Try another copy of the recording, or re-export it from the program that made it.',
  },
  'file-no-audio': {
    title: 'This file has no audio track.',
    action: 'Choose a recording or a video that contains sound.',
  },
  'decode-failed': {
    title: 'The audio could not be decoded.',
    action: 'Convert the file to WAV or MP3 with another program and try again.',
  },
  'model-manifest-invalid': {
    title: 'The separation model description (manifest.json) is invalid.',
    action: 'Reload the page. If it persists, reinstall the app: its files may have been altered.',
  },
  'model-manifest-tampered': {
    title: 'The model manifest does not match the one this app was built with.',
    action: 'Nothing was run. Reload the page from the original site; if it persists, the hosted files have been altered.',
  },
  'model-hash-mismatch': {
    title: 'A model file failed its integrity check (SHA-256 mismatch).',
    action: 'Nothing was run. Reload the page from the original site; if it persists, the hosted model file has been altered.',
  },
  'model-fetch-failed': {
    title: 'The separation model could not be loaded.',
    action: 'Reload the page while online once so the app can store the model for offline use.',
  },
  'model-contract-broken': {
    title: 'The model does not follow the VoxSplit model contract.',
    action: 'Use a model whose manifest and ONNX file match the contract (input "mixture" [1,T], output "sources" [1,S,T]).',
  },
  'backend-unavailable': {
    title: 'The selected compute backend is not available in this browser.',
    action: 'Choose "Automatic" in Settings to use WebAssembly.',
  },
  'separation-failed': {
    title: 'Separation failed.',
    action: 'Try again; if it fails again, switch the backend to WebAssembly in Settings.',
  },
  'out-of-memory': {
    title: 'The browser ran out of memory.',
    action: 'Close other tabs or use a shorter recording, then try again.',
  },
  'export-failed': {
    title: 'The tracks could not be saved.',
    action: 'Check that there is free disk space and try the download again.',
  },
  cancelled: {
    title: 'Cancelled.',
    action: 'Choose a file and press Separate to start again.',
  },
  internal: {
    title: 'Something went wrong inside VoxSplit.',
    action: 'Reload the page and try again. Your file never left this device.',
  },
};

export class VoxError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for the user (the file name, the expected hash…). */
  readonly detail?: string;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${TEXT[code].title} ${detail}` : TEXT[code].title, options);
    this.name = 'VoxError';
    this.code = code;
    this.detail = detail;
  }

  get title(): string {
    return TEXT[this.code].title;
  }

  get action(): string {
    return TEXT[this.code].action;
  }
}

/** A plain object that survives postMessage (Error subclasses lose their fields). */
export interface SerializedVoxError {
  code: ErrorCode;
  detail?: string;
}

export function isSerializedVoxError(v: unknown): v is SerializedVoxError {
  return typeof v === 'object' && v !== null && typeof (v as SerializedVoxError).code === 'string' && (v as SerializedVoxError).code in TEXT;
}

/** Turns anything thrown (including errors that crossed a worker boundary) into a VoxError. */
export function toVoxError(e: unknown, fallback: ErrorCode = 'internal'): VoxError {
  if (e instanceof VoxError) return e;
  if (isSerializedVoxError(e)) return new VoxError(e.code, e.detail);
  if (e instanceof Error) {
    const parsed = parseEncoded(e.message);
    if (parsed) return new VoxError(parsed.code, parsed.detail, { cause: e });
    if (e.name === 'AbortError') return new VoxError('cancelled');
    if (/out of memory|Array buffer allocation failed|RangeError: Invalid typed array length/i.test(`${e.name}: ${e.message}`)) {
      return new VoxError('out-of-memory', undefined, { cause: e });
    }
    return new VoxError(fallback, e.message, { cause: e });
  }
  return new VoxError(fallback, String(e));
}

/**
 * comlink rethrows worker errors as plain Errors carrying only the message, so
 * workers throw errors whose message encodes the code; toVoxError decodes it.
 */
const PREFIX = 'VOXERR:';

export function encodeForWorkerBoundary(e: unknown, fallback: ErrorCode = 'internal'): Error {
  const v = toVoxError(e, fallback);
  return new Error(PREFIX + JSON.stringify({ code: v.code, detail: v.detail } satisfies SerializedVoxError));
}

function parseEncoded(message: string): SerializedVoxError | null {
  const at = message.indexOf(PREFIX);
  if (at < 0) return null;
  try {
    const v = JSON.parse(message.slice(at + PREFIX.length)) as unknown;
    return isSerializedVoxError(v) ? v : null;
  } catch {
    return null;
  }
}

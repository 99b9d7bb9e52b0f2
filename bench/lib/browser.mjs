/** How the benchmark starts Debian's Chromium (one browser at a time). */
import { chromium } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processTree } from './proc.mjs';

export const BASE_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** measureUserAgentSpecificMemory() answers at once instead of waiting for the next GC (up to ~20 s). */
export const MEMORY_ARGS = ['--enable-blink-features=ForceEagerMeasureMemory'];

export async function launch(extra = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...BASE_ARGS, ...MEMORY_ARGS, ...extra], timeout: 120_000 });
}

/**
 * A fresh on-disk profile (empty HTTP cache, no service worker), as a user's browser has: in a
 * `browser.newContext()` (incognito-like) context Chromium keeps OPFS in the browser process's
 * memory, which would put the app's streamed tracks back in RAM. Returns the context; closing it
 * stops the browser and deletes the profile.
 */
export async function launchPersistent(extra = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxsplit-bench-profile-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', args: [...BASE_ARGS, ...MEMORY_ARGS, ...extra], timeout: 120_000 });
  const close = context.close.bind(context);
  context.close = async () => {
    await close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  return context;
}

const nameOf = (pid) => {
  try {
    return /^Name:\s+(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
};

/** The browser's root process id (for /proc memory sampling of its whole tree): our child named chromium. */
export function browserPid() {
  const ours = processTree(process.pid).filter((p) => p !== process.pid && /^chrom/.test(nameOf(p)));
  // The root is the one whose parent is not itself a chromium process.
  return ours.find((p) => !ours.some((q) => processTree(q).includes(p) && q !== p)) ?? null;
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

import type { CDPSession, Page } from '@playwright/test';

export interface JsMemory {
  /** Bytes per context (page, then each worker by name) and their total. */
  [context: string]: number;
  total: number;
}

export function attachMemory(page: Page): Promise<{ cdp: CDPSession; jsMemory: () => Promise<JsMemory>; gc: () => Promise<void> }>;

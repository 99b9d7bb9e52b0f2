/**
 * The client against a fake worker (a MessageChannel running a fake API with
 * comlink), so cancel, error decoding and buffer transfer are tested without
 * a browser. The real worker runs in the Playwright checks.
 */
import * as Comlink from 'comlink';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeForWorkerBoundary, VoxError } from '../../lib/errors';
import type { PcmChunk } from '../../pipeline/types';
import { createSeparateClient } from './client';
import type { ModelInfo, SeparateWorkerApi } from './shared';

let received: PcmChunk[] = [];
let hang = false;
let terminated = 0;
let loadedWith: Parameters<SeparateWorkerApi['load']>[0] | undefined;

const fakeInfo = { id: 'm', backend: 'wasm', threads: 1 } as unknown as ModelInfo;
const fakeApi: SeparateWorkerApi = {
  load: async (opts) => {
    loadedWith = opts;
    if (opts.modelBaseUrl.includes('tampered')) throw encodeForWorkerBoundary(new VoxError('model-hash-mismatch', 'model.onnx: expected a, got b'));
    return fakeInfo;
  },
  push: async (chunk) => {
    received.push(chunk);
    if (hang) await new Promise(() => {});
    return [{ start: chunk.start, sources: [chunk.samples.map((x) => x * 2)] }];
  },
  finish: async () => [],
};

class FakeWorker {
  private port: MessagePort;
  constructor() {
    const { port1, port2 } = new MessageChannel();
    Comlink.expose(fakeApi, port2 as unknown as Comlink.Endpoint);
    this.port = port1;
  }
  postMessage(m: unknown, t?: Transferable[]) {
    this.port.postMessage(m, t ?? []);
  }
  addEventListener(type: string, l: EventListener) {
    this.port.addEventListener(type, l);
    this.port.start();
  }
  removeEventListener(type: string, l: EventListener) {
    this.port.removeEventListener(type, l);
  }
  terminate() {
    terminated++;
    this.port.close();
  }
}

beforeEach(() => {
  received = [];
  hang = false;
  terminated = 0;
  vi.stubGlobal('Worker', FakeWorker);
});
afterEach(() => vi.unstubAllGlobals());

describe('createSeparateClient', () => {
  it('loads, pushes and finishes', async () => {
    const c = createSeparateClient();
    expect(await c.load({ backend: 'wasm', modelBaseUrl: 'https://app.example/models/' })).toEqual(fakeInfo);
    const blocks = await c.push({ start: 0, samples: Float32Array.of(1, 2, 3) });
    expect(Array.from(blocks[0].sources[0])).toEqual([2, 4, 6]);
    expect(await c.finish()).toEqual([]);
    c.dispose();
  });

  it('passes the associate setting to the worker', async () => {
    const c = createSeparateClient();
    await c.load({ backend: 'wasm', associate: false, modelBaseUrl: 'https://app.example/models/' });
    expect(loadedWith).toMatchObject({ backend: 'wasm', associate: false });
    await c.load({ backend: 'wasm', associate: true, modelBaseUrl: 'https://app.example/models/' });
    expect(loadedWith).toMatchObject({ associate: true });
    c.dispose();
  });

  it('decodes worker errors into VoxErrors with their code', async () => {
    const c = createSeparateClient();
    const e = await c.load({ backend: 'wasm', modelBaseUrl: 'https://app.example/tampered/' }).catch((x) => x);
    expect(e).toBeInstanceOf(VoxError);
    expect(e.code).toBe('model-hash-mismatch');
    expect(e.detail).toContain('model.onnx');
    c.dispose();
  });

  it('transfers a buffer it owns whole, and copies a view into a larger buffer', async () => {
    const c = createSeparateClient();
    await c.load({ backend: 'wasm', modelBaseUrl: 'https://app.example/models/' });
    const whole = new Float32Array(8).fill(1);
    await c.push({ start: 0, samples: whole });
    expect(whole.length).toBe(0); // detached: transferred, not copied
    const big = new Float32Array(16).fill(3);
    const view = big.subarray(4, 8);
    await c.push({ start: 8, samples: view });
    expect(view.length).toBe(4); // the caller's buffer is untouched
    expect(Array.from(received[1].samples)).toEqual([3, 3, 3, 3]);
    c.dispose();
  });

  it('dispose() settles a pending call with cancelled at once and makes the client unusable', async () => {
    const c = createSeparateClient();
    await c.load({ backend: 'wasm', modelBaseUrl: 'https://app.example/models/' });
    hang = true;
    const p = c.push({ start: 0, samples: new Float32Array(4) });
    await new Promise((r) => setTimeout(r, 10));
    c.dispose();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    expect(terminated).toBe(1);
    await expect(c.finish()).rejects.toMatchObject({ code: 'cancelled' });
    c.dispose();
    expect(terminated).toBe(1);
  });

  it('starts a fresh worker when the backend or thread count changes', async () => {
    const c = createSeparateClient();
    await c.load({ backend: 'wasm', modelBaseUrl: 'https://app.example/models/' });
    await c.load({ backend: 'wasm', modelBaseUrl: 'https://app.example/models/' });
    expect(terminated).toBe(0);
    await c.load({ backend: 'wasm', threads: 1, modelBaseUrl: 'https://app.example/models/' });
    expect(terminated).toBe(1);
    c.dispose();
  });
});

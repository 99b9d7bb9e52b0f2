import { describe, expect, it, vi } from 'vitest';
import { chooseBackend, describeAdapter, MAX_WASM_THREADS, requestedThreads, threadChoices, wasmThreads, webgpuRunGuard, type AdapterLike, type BackendEnv } from './backend';

const swiftshader: AdapterLike = { info: { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true } };
const realGpu: AdapterLike = { info: { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA RTX', isFallbackAdapter: false } };
const legacyFallback: AdapterLike = { info: { vendor: 'google' }, isFallbackAdapter: true };

function env(adapter: AdapterLike | null | 'none' | 'throws' | 'hangs', isolated = true, cores = 4): BackendEnv {
  if (adapter === 'none') return { crossOriginIsolated: isolated, hardwareConcurrency: cores };
  return {
    crossOriginIsolated: isolated,
    hardwareConcurrency: cores,
    gpu: {
      requestAdapter: () =>
        adapter === 'throws' ? Promise.reject(new Error('nope')) : adapter === 'hangs' ? new Promise(() => {}) : Promise.resolve(adapter),
    },
  };
}

describe('threadChoices', () => {
  it('offers only 1 thread without cross-origin isolation', () => {
    expect(threadChoices(env('none', false, 8))).toEqual({ auto: 1, max: 1 });
  });
  it('offers every core up to the cap, with one less by default', () => {
    expect(threadChoices(env('none', true, 2))).toEqual({ auto: 1, max: 2 });
    expect(threadChoices(env('none', true, 4))).toEqual({ auto: 3, max: 4 });
    expect(threadChoices(env('none', true, 64))).toEqual({ auto: MAX_WASM_THREADS, max: MAX_WASM_THREADS });
  });
});

describe('requestedThreads', () => {
  it('passes a count the machine can give, and treats automatic or an impossible count as automatic', () => {
    expect(requestedThreads(2, env('none', true, 2))).toBe(2);
    expect(requestedThreads('auto', env('none', true, 2))).toBeUndefined();
    expect(requestedThreads(4, env('none', true, 2))).toBeUndefined();
    expect(requestedThreads(2, env('none', false, 8))).toBeUndefined();
    expect(requestedThreads(0, env('none', true, 2))).toBeUndefined();
  });
});

describe('wasmThreads', () => {
  it('uses 1 thread without cross-origin isolation', () => {
    expect(wasmThreads(env('none', false, 16))).toBe(1);
    expect(wasmThreads(env('none', false, 16), 4)).toBe(1);
  });
  it('leaves one core to the decoder and the page when isolated, capped', () => {
    expect(wasmThreads(env('none', true, 2))).toBe(1);
    expect(wasmThreads(env('none', true, 4))).toBe(3);
    expect(wasmThreads(env('none', true, 1))).toBe(1);
    expect(wasmThreads(env('none', true, 64))).toBe(MAX_WASM_THREADS);
    expect(wasmThreads(env('none', true, 0))).toBe(1);
  });
  it('honours a requested count up to every core, capped', () => {
    expect(wasmThreads(env('none', true, 4), 1)).toBe(1);
    expect(wasmThreads(env('none', true, 2), 2)).toBe(2);
    expect(wasmThreads(env('none', true, 4), 99)).toBe(4);
    expect(wasmThreads(env('none', true, 64), 64)).toBe(MAX_WASM_THREADS);
  });
});

describe('chooseBackend', () => {
  it('auto picks WebGPU on a real adapter', async () => {
    const c = await chooseBackend('auto', env(realGpu));
    expect(c.backend).toBe('webgpu');
    expect(c.adapter).toBe(realGpu);
    expect(c.adapterDescription).toBe('nvidia ampere NVIDIA RTX');
  });

  it('auto picks WASM on a fallback (SwiftShader) adapter, either spelling of the flag', async () => {
    for (const a of [swiftshader, legacyFallback]) {
      const c = await chooseBackend('auto', env(a));
      expect(c.backend).toBe('wasm');
      expect(c.reason).toMatch(/fallback/);
    }
  });

  it('auto picks WASM without WebGPU, without an adapter, or when requestAdapter fails', async () => {
    for (const e of [env('none'), env(null), env('throws')]) expect((await chooseBackend('auto', e)).backend).toBe('wasm');
  });

  it('webgpu forces any adapter, fallback included', async () => {
    const c = await chooseBackend('webgpu', env(swiftshader));
    expect(c.backend).toBe('webgpu');
    expect(c.adapterDescription).toBe('google swiftshader (fallback)');
  });

  it('webgpu without an adapter is backend-unavailable', async () => {
    await expect(chooseBackend('webgpu', env('none'))).rejects.toMatchObject({ code: 'backend-unavailable' });
    await expect(chooseBackend('webgpu', env(null))).rejects.toMatchObject({ code: 'backend-unavailable' });
  });

  it('auto does not wait forever on a requestAdapter that never settles', async () => {
    vi.useFakeTimers();
    try {
      const p = chooseBackend('auto', env('hangs'));
      await vi.advanceTimersByTimeAsync(5000);
      expect((await p).backend).toBe('wasm');
      const q = chooseBackend('webgpu', env('hangs'));
      const check = expect(q).rejects.toMatchObject({ code: 'backend-unavailable' });
      await vi.advanceTimersByTimeAsync(5000);
      await check;
    } finally {
      vi.useRealTimers();
    }
  });

  it('wasm never asks for an adapter', async () => {
    let asked = false;
    const e: BackendEnv = { crossOriginIsolated: false, hardwareConcurrency: 8, gpu: { requestAdapter: async () => ((asked = true), realGpu) } };
    expect(await chooseBackend('wasm', e)).toMatchObject({ backend: 'wasm', threads: 1 });
    expect(asked).toBe(false);
  });

  it('passes the thread request through the isolation rules', async () => {
    expect((await chooseBackend('wasm', env('none', true, 8), { threads: 1 })).threads).toBe(1);
    expect((await chooseBackend('wasm', env('none', true, 8))).threads).toBe(7);
  });

  it('describes an adapter without info', () => {
    expect(describeAdapter({})).toBe('unknown adapter');
  });
});

describe('webgpuRunGuard', () => {
  function fakeDevice() {
    const stack: ({ message: string } | null)[][] = [];
    let lose: (i: { message: string }) => void = () => {};
    const device = {
      pushErrorScope: () => void stack.push([]),
      popErrorScope: async () => stack.pop()?.[0] ?? null,
      lost: new Promise<{ message: string }>((r) => (lose = r)),
      /** Raises an error into the innermost open scope (as a failing GPU call would). */
      raise: (message: string, scope = 0) => stack[stack.length - 1 - scope]?.push({ message }),
      depth: () => stack.length,
      lose: (message: string) => lose({ message }),
    };
    return device;
  }

  it('passes results through and leaves no scope open', async () => {
    const d = fakeDevice();
    const guard = webgpuRunGuard(d);
    expect(await guard(async () => 42)).toBe(42);
    expect(d.depth()).toBe(0);
  });

  it('turns a validation error into backend-unavailable instead of returning wrong output', async () => {
    const d = fakeDevice();
    const guard = webgpuRunGuard(d);
    const p = guard(async () => {
      d.raise('The number of storage buffers (18) in the Compute stage exceeds the maximum per-stage limit (8).\n - While validating', 1);
      return 'garbage';
    });
    await expect(p).rejects.toMatchObject({ code: 'backend-unavailable', detail: expect.stringContaining('storage buffers (18)') });
    expect(d.depth()).toBe(0);
  });

  it('turns a GPU out-of-memory error into out-of-memory', async () => {
    const d = fakeDevice();
    const guard = webgpuRunGuard(d);
    await expect(guard(async () => void d.raise('Out of memory', 2))).rejects.toMatchObject({ code: 'out-of-memory' });
  });

  it('refuses to run on a lost device', async () => {
    const d = fakeDevice();
    const guard = webgpuRunGuard(d);
    d.lose('driver reset');
    await new Promise((r) => setTimeout(r, 0));
    await expect(guard(async () => 1)).rejects.toMatchObject({ code: 'backend-unavailable' });
  });

  it('rethrows the run error when the GPU reported none, and serializes runs', async () => {
    const d = fakeDevice();
    const guard = webgpuRunGuard(d);
    const order: number[] = [];
    const a = guard(async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push(1);
      throw new Error('boom');
    });
    const b = guard(async () => void order.push(2));
    await expect(a).rejects.toThrow('boom');
    await b;
    expect(order).toEqual([1, 2]);
    expect(d.depth()).toBe(0);
  });
});

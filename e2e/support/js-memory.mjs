/**
 * JS memory of a page and its workers, through CDP. Shared by the e2e memory
 * test and scripts/measure-output.mjs (plain JS so both can import it).
 *
 * JS memory per context = V8 heap + ArrayBuffer backing stores (where audio
 * lives; CDP's JSHeapUsedSize leaves those out). Workers are reached through
 * auto-attached targets. (measureUserAgentSpecificMemory is no use here: it
 * counts a shared WebAssembly.Memory once per thread that holds it.)
 */

/** @param {import('@playwright/test').Page} page */
export async function attachMemory(page) {
  const cdp = await page.context().newCDPSession(page);
  const workers = new Map();
  const waiting = new Map();
  let nextId = 1;
  cdp.on('Target.attachedToTarget', (e) => workers.set(e.sessionId, e.targetInfo));
  cdp.on('Target.detachedFromTarget', (e) => workers.delete(e.sessionId));
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    waiting.get(m.id)?.(m.result);
    waiting.delete(m.id);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const inWorker = (sessionId, method) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(() => resolve(null));
      setTimeout(() => resolve(null), 3000);
    });
  const bytesOf = (u) => (u ? u.usedSize + (u.backingStorageSize ?? 0) : 0);
  /** { page, <worker name>…, total } in bytes. */
  const jsMemory = async () => {
    const out = { page: bytesOf(await cdp.send('Runtime.getHeapUsage').catch(() => null)) };
    for (const [sid, t] of workers) {
      if (t.type !== 'worker') continue;
      const name = t.title || t.url.split('/').pop();
      out[name] = (out[name] ?? 0) + bytesOf(await inWorker(sid, 'Runtime.getHeapUsage'));
    }
    out.total = Object.values(out).reduce((a, b) => a + b, 0);
    return out;
  };
  const gc = async () => {
    await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
    for (const [sid, t] of workers) if (t.type === 'worker') await inWorker(sid, 'HeapProfiler.collectGarbage');
  };
  return { cdp, jsMemory, gc };
}

/** Vite builds and preview servers for the benchmark (ports 4270–4279 only), and a byte-counting proxy. */
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const VITE = path.resolve('node_modules/vite/bin/vite.js');

/** Servers still running: stopped by stopAll() (run.mjs calls it on exit and on Ctrl-C). */
const running = new Set();
export function stopAll() {
  for (const stop of [...running]) stop();
}

export function viteBuild(args, label) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [VITE, 'build', '--logLevel', 'error', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${label}: vite build failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  return Date.now() - t0;
}

async function waitFor(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const req = http.get(url, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.setTimeout(2000, () => {
        req.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${ms / 1000} s`);
}

async function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `vite preview` in its own process group (so stop() ends it and anything it started, and nothing else). */
export async function startPreview({ port, args = [], host = 'localhost', probePath = '/' }) {
  if (!(await portFree(port))) throw new Error(`Port ${port} is in use: is another benchmark running?`);
  const child = spawn(process.execPath, [VITE, 'preview', '--host', host, '--port', String(port), '--strictPort', ...args], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  const stop = () => {
    running.delete(stop);
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  running.add(stop);
  try {
    await waitFor(`http://${host}:${port}${probePath}`, 60_000);
  } catch (e) {
    stop();
    throw new Error(`${e.message}\n${err}`);
  }
  return { url: `http://${host}:${port}`, stop };
}

/**
 * An HTTP proxy that Chromium sends every request through (--proxy-server,
 * loopback included), counting the bytes of each response as they came off the
 * wire (body as encoded by the server, plus status line and headers).
 * Anything but the app's own origin (Chromium's own calls to Google) is refused and listed apart.
 */
export async function startCountingProxy(port, allowedHost) {
  if (!(await portFree(port))) throw new Error(`Port ${port} is in use: is another benchmark running?`);
  const log = [];
  const refused = [];
  let inFlight = 0;
  let lastActivity = Date.now();
  const server = http.createServer((req, res) => {
    let target;
    try {
      target = new URL(req.url);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (target.host !== allowedHost) {
      refused.push(req.url);
      res.writeHead(403).end();
      return;
    }
    inFlight++;
    lastActivity = Date.now();
    const entry = { url: target.pathname + target.search, method: req.method, status: 0, encoding: null, bodyBytes: 0, headerBytes: 0, t: Date.now() };
    const up = http.request({ host: '127.0.0.1', port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (ures) => {
      entry.status = ures.statusCode;
      entry.encoding = ures.headers['content-encoding'] ?? null;
      entry.contentType = ures.headers['content-type'] ?? null;
      entry.headerBytes = `HTTP/1.1 ${ures.statusCode} ${ures.statusMessage}\r\n`.length + ures.rawHeaders.reduce((s, h, i) => s + h.length + 2, 0) + 2;
      res.writeHead(ures.statusCode, ures.statusMessage, ures.rawHeaders);
      ures.on('data', (c) => {
        entry.bodyBytes += c.length;
        lastActivity = Date.now();
      });
      ures.pipe(res);
      ures.on('end', () => {
        inFlight--;
        lastActivity = Date.now();
        log.push(entry);
      });
    });
    up.on('error', (e) => {
      inFlight--;
      entry.error = String(e);
      log.push(entry);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  server.on('connect', (req, socket) => {
    refused.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    log,
    refused,
    /** Resolves once nothing has moved for `quietMs`. */
    async idle(quietMs = 2000, maxMs = 300_000) {
      const end = Date.now() + maxMs;
      while (Date.now() < end) {
        if (inFlight === 0 && Date.now() - lastActivity >= quietMs) return true;
        await new Promise((r) => setTimeout(r, 200));
      }
      return false;
    },
    stop: () => new Promise((r) => server.close(() => r())),
    closeAll: () => server.closeAllConnections?.(),
  };
}

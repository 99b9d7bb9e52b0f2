/**
 * A recording HTTP proxy that Chromium must use for every request (page,
 * workers, service worker). It forwards only to the app's own servers and
 * records everything else, so a test fails on any third-party request.
 */
import http from 'node:http';
import net from 'node:net';
import { ALLOWED_HOSTS, CHROMIUM_INTERNAL_HOSTS, PROXY_PORT } from './browser';

export interface EgressRecord {
  method: string;
  url: string;
  allowed: boolean;
  /** Response body bytes as they crossed the wire (compressed if the server compressed them). */
  bytes: number;
  /** The response's Content-Encoding, if any. */
  encoding?: string;
}

export class EgressProxy {
  readonly log: EgressRecord[] = [];
  /** When true the proxy refuses everything: the network is "off". */
  offline = false;
  private server?: http.Server;

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.forward(req, res));
    server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
      // HTTPS/WSS tunnels: the app never needs one.
      this.log.push({ method: 'CONNECT', url: req.url ?? '', allowed: false, bytes: 0 });
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(PROXY_PORT, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
  }

  /** Requests to anywhere but the app, except the browser's own (see CHROMIUM_INTERNAL_HOSTS). */
  offenders(): EgressRecord[] {
    return this.notBrowserInternal().filter((r) => !r.allowed);
  }

  /** Every record from index `from` on except Chromium's own calls home, which come at random moments. */
  notBrowserInternal(from = 0): EgressRecord[] {
    return this.log.slice(from).filter((r) => !CHROMIUM_INTERNAL_HOSTS.includes(hostOf(r)));
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const allowed = target.protocol === 'http:' && ALLOWED_HOSTS.includes(target.host);
    const record: EgressRecord = { method: req.method ?? 'GET', url: target.href, allowed, bytes: 0 };
    this.log.push(record);
    if (!allowed || this.offline) {
      // Offline is a network failure, not an HTTP answer.
      req.socket.destroy();
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: Number(target.port), path: target.pathname + target.search, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        const enc = up.headers['content-encoding'];
        if (enc) record.encoding = String(enc);
        up.on('data', (chunk: Buffer) => (record.bytes += chunk.length));
        up.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  }
}

function hostOf(r: EgressRecord): string {
  if (r.method === 'CONNECT') return r.url.replace(/:\d+$/, '');
  try {
    return new URL(r.url).hostname;
  } catch {
    return r.url;
  }
}

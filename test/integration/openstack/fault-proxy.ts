/**
 * A tiny HTTP proxy a test puts in front of one OpenStack service (through the adapter's endpoint
 * override): it forwards everything to the real service, records what passed, and lets the test
 * answer chosen requests itself (a 500 from nova, an HTML 502, a 429) or act just before forwarding
 * (revoke the token in flight). When the service behind it is down it answers 503 with an HTML page,
 * as haproxy or nginx in front of a real cloud would.
 */
import { type IncomingMessage, request, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  token?: string;
  status?: number;
}

export interface Injected {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Decides per request: answer it (an Injected) or forward it (undefined), possibly after doing something. */
export type Hook = (req: SeenRequest) => Promise<Injected | undefined> | Injected | undefined;

export class FaultProxy {
  readonly seen: SeenRequest[] = [];
  hook?: Hook;

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((req, res) => {
      proxy?.handle(req, res).catch((e) => {
        res.writeHead(599).end(String(e));
      });
    });
    proxy = new FaultProxy(server, new URL(target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The proxy's origin; append the service's base path (`/v2.1` for nova). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  tokens(): string[] {
    return [...new Set(this.seen.map((s) => s.token).filter((t): t is string => t !== undefined))];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = req.headers['x-auth-token'];
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', ...(typeof token === 'string' && { token }) };
    this.seen.push(seen);
    const injected = await this.hook?.(seen);
    if (injected) {
      seen.status = injected.status;
      req.resume();
      res.writeHead(injected.status, injected.headers ?? {}).end(injected.body ?? '');
      return;
    }
    const upstream = request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        seen.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      seen.status = 503;
      if (!res.headersSent) {
        res
          .writeHead(503, { 'Content-Type': 'text/html' })
          .end('<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>');
      }
    });
    req.pipe(upstream);
  }
}

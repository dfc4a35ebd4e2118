/** Plain HTTP requests on a fresh connection each, answering the error code instead of throwing: for probing workloads. */
import { request } from 'node:http';
import { createServer } from 'node:net';

export interface Probe {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  /** The socket error (ECONNREFUSED, ECONNRESET...) when there was no answer. */
  error?: string;
}

/** One request on its own connection (no keep-alive pool): a refused or reset connection shows as `error`. */
export function probe(url: string, opts: { method?: string; body?: string | Buffer; timeoutMs?: number } = {}): Promise<Probe> {
  return new Promise((resolve) => {
    const req = request(url, { method: opts.method ?? 'GET', agent: false, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(opts.body);
  });
}

/** Polls `check` every 20 ms until it holds, up to `timeoutMs`; answers the time it took. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A port nobody listens on right now, from the kernel. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

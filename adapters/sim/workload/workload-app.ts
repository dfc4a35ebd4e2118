/** The small HTTP application a workload instance serves: health, who it is, and a key-value store on its own disk. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KEY_PATTERN, KvFullError, type KvLog, MAX_VALUE_BYTES } from './kv-log.js';
import type { ServedInstance } from './workload-protocol.js';

/** Answers one request; every answer names the instance in `X-Skygate-Instance`, so a client can tell who served it. */
export function handleWorkloadRequest(me: ServedInstance, kv: KvLog, req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('X-Skygate-Instance', me.instanceId);
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const method = req.method ?? 'GET';
  if (path === '/healthz') {
    if (only(['GET', 'HEAD'], method, res)) json(res, 200, { status: 'ok' });
  } else if (path === '/whoami') {
    if (only(['GET', 'HEAD'], method, res)) json(res, 200, whoami(me, kv));
  } else if (path === '/kv') {
    if (only(['GET'], method, res)) json(res, 200, { keys: kv.keys() });
  } else if (path.startsWith('/kv/')) {
    keyValue(kv, path.slice('/kv/'.length), method, req, res);
  } else {
    json(res, 404, { error: `no route ${path}` });
  }
}

function whoami(me: ServedInstance, kv: KvLog): Record<string, unknown> {
  return {
    instance: me.instanceId,
    provider: me.providerId,
    image: me.imageId,
    address: me.address,
    port: me.port,
    keys: kv.count,
    pid: process.pid,
  };
}

function keyValue(kv: KvLog, key: string, method: string, req: IncomingMessage, res: ServerResponse): void {
  if (!KEY_PATTERN.test(key)) {
    json(res, 400, { error: 'key must be 1 to 200 of A-Z a-z 0-9 . _ ~ -' });
  } else if (method === 'GET' || method === 'HEAD') {
    const value = kv.get(key);
    if (value === undefined) {
      json(res, 404, { error: `no key '${key}'` });
    } else {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': value.length });
      res.end(method === 'HEAD' ? undefined : value);
    }
  } else if (method === 'PUT') {
    readBody(req, res, (body) => store(kv, key, body, res));
  } else if (method === 'DELETE') {
    if (kv.delete(key)) res.writeHead(204).end();
    else json(res, 404, { error: `no key '${key}'` });
  } else {
    only(['GET', 'HEAD', 'PUT', 'DELETE'], method, res);
  }
}

function store(kv: KvLog, key: string, body: Buffer, res: ServerResponse): void {
  try {
    const created = kv.put(key, body);
    json(res, created ? 201 : 200, { key, bytes: body.length });
  } catch (e) {
    json(res, e instanceof KvFullError ? 507 : 500, { error: e instanceof Error ? e.message : String(e) });
  }
}

/** Collects a body of at most MAX_VALUE_BYTES; a larger one is refused with 413 as soon as it is known. */
function readBody(req: IncomingMessage, res: ServerResponse, done: (body: Buffer) => void): void {
  if (Number(req.headers['content-length'] ?? 0) > MAX_VALUE_BYTES) {
    tooLarge(req, res);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_VALUE_BYTES) chunks.push(chunk);
    else if (!res.headersSent) tooLarge(req, res);
  });
  req.on('end', () => {
    if (!res.headersSent) done(Buffer.concat(chunks));
  });
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  json(res, 413, { error: `a value is at most ${MAX_VALUE_BYTES} bytes` });
  // The rest of the body is not worth reading; closing after the answer keeps the connection from carrying it.
  res.on('finish', () => req.destroy());
}

function only(allowed: string[], method: string, res: ServerResponse): boolean {
  if (allowed.includes(method)) return true;
  res.setHeader('Allow', allowed.join(', '));
  json(res, 405, { error: `use ${allowed.join(' or ')}` });
  return false;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

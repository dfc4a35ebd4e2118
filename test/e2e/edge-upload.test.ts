/**
 * Uploads that stop half way, stall, or crawl, sent by a real client socket: a dropped or stalled upload
 * fails at once, leaves no scratch directory and says why; a slow but live one is not cut.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { validateResponse } from '../../src/api/rest/openapi-validator.js';
import { loadConfig } from '../../src/server/config.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';
import { ADMIN_TOKEN, simProviders } from '../helpers/gateway.js';
import { goodOva } from '../helpers/ova-craft.js';

const IDLE_MS = 400;
const TOTAL_MS = 600;

const logLines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line));
    done();
  },
});

let gateway: Gateway;
let port: number;
let dataDir: string;
let ova: Buffer;
/** An origin for URL imports that sends half the package, then cuts the connection (a proxy cut). */
let origin: http.Server;
let originPort: number;

/** A real VMDK (the import reads the disk with qemu-img as it arrives), made from `raw` by qemu-img. */
async function streamOptimizedVmdk(raw: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-edge-disk-'));
  try {
    await writeFile(path.join(dir, 'disk.raw'), raw);
    await new Promise<void>((resolve, reject) =>
      execFile(
        'qemu-img',
        ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', 'disk.raw', 'disk.vmdk'],
        { cwd: dir },
        (e) => (e ? reject(e) : resolve()),
      ),
    );
    return await readFile(path.join(dir, 'disk.vmdk'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'skygate-edge-upload-'));
  ova = await goodOva(await streamOptimizedVmdk(randomBytes(4 * 1024 * 1024)));
  origin = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Content-Length': ova.length });
    res.write(ova.subarray(0, ova.length / 2), () => setTimeout(() => res.socket?.destroy(), 50));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
  const config = {
    ...loadConfig({
      SKYGATE_DATA_DIR: dataDir,
      SKYGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      SKYGATE_BODY_IDLE_TIMEOUT_MS: String(IDLE_MS),
      SKYGATE_BODY_TIMEOUT_MS: String(TOTAL_MS),
      SKYGATE_URL_ALLOWLIST: '127.0.0.1',
      SKYGATE_URL_PORTS: String(originPort),
    }),
    port: 0,
    providers: simProviders(0),
  };
  gateway = await createGateway(config, pino({ level: 'warn' }, sink));
  port = Number(new URL((await gateway.listen()).url).port);
});
after(async () => {
  await gateway.close();
  origin.closeAllConnections();
  await new Promise((r) => origin.close(r));
  await rm(dataDir, { recursive: true, force: true });
});

const scratch = () => readdir(path.join(dataDir, 'tmp')).catch(() => [] as string[]);

/** Polls `check` until it holds or `ms` pass; answers whether it held. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}

interface Exchange {
  socket: net.Socket;
  /** Everything the gateway answered, once it closes or `ms` pass. */
  answer(ms: number): Promise<string>;
}

function open(head: string): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(head);
      let text = '';
      let closed = false;
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('error', () => {});
      const done = new Promise<void>((r) =>
        socket.once('close', () => {
          closed = true;
          r();
        }),
      );
      resolve({
        socket,
        async answer(ms) {
          await Promise.race([done, sleep(ms)]);
          assert.ok(closed || text !== '', `no answer within ${ms} ms`);
          return text;
        },
      });
    });
    socket.once('error', reject);
  });
}

const uploadHead = (length: number, type = 'application/x-tar') =>
  `POST /v1/images/import?provider=sim-west HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
  `Content-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`;

function parseAnswer(raw: string): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(rest.join('\r\n\r\n')) };
}

describe('uploads that stop', () => {
  it('a client that sends half the package and drops the connection: fails at once, no scratch left, says why', async () => {
    const x = await open(uploadHead(ova.length));
    x.socket.write(ova.subarray(0, ova.length / 2));
    // Receiving has started: its scratch directory exists.
    assert.ok(await eventually(async () => (await scratch()).length > 0, 5_000), 'the upload is being received');
    const cut = Date.now();
    x.socket.destroy();
    assert.ok(
      await eventually(async () => (await scratch()).length === 0, 2_000),
      `the scratch directory is removed at once (left: ${await scratch()})`,
    );
    assert.ok(Date.now() - cut < IDLE_MS, 'not by the idle timeout, but as soon as the client is gone');
    const why = logLines.find(
      (l) => l.path === '/images/import' && /the upload stopped after \d+ of \d+ bytes/.test(String(l.reason)),
    );
    assert.ok(why, `the log says why: ${JSON.stringify(logLines)}`);
    assert.match(String(why.reason), /the client closed the connection/);
  });

  it('a client that stalls half way: a 408 problem after the idle timeout, and no scratch left', async () => {
    const x = await open(uploadHead(ova.length));
    x.socket.write(ova.subarray(0, ova.length / 2));
    const started = Date.now();
    const raw = await x.answer(IDLE_MS * 10);
    const waited = Date.now() - started;
    const res = parseAnswer(raw);
    assert.equal(res.status, 408, raw);
    assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
    assert.equal(res.body.field, 'body');
    assert.match(String(res.body.detail), /no body data arrived for 0\.4 s \(idle timeout\)/);
    assert.deepEqual(validateResponse('POST', '/v1/images/import', res.status, res.headers['content-type'], res.body), []);
    assert.ok(waited >= IDLE_MS - 50 && waited < IDLE_MS * 5, `answered after the idle timeout (${waited} ms)`);
    assert.ok(await eventually(async () => (await scratch()).length === 0, 2_000), 'no scratch directory left');
    x.socket.destroy();
  });

  it('a slow but live upload is not cut, though it takes longer than the total body timeout', async () => {
    const x = await open(uploadHead(ova.length));
    const pieces = 8;
    const size = Math.ceil(ova.length / pieces);
    const started = Date.now();
    for (let i = 0; i < pieces; i++) {
      x.socket.write(ova.subarray(i * size, (i + 1) * size));
      await sleep(IDLE_MS / 3);
    }
    const res = parseAnswer(await x.answer(10_000));
    assert.ok(Date.now() - started > TOTAL_MS, 'the upload outlasted the total timeout of buffered bodies');
    assert.equal(res.status, 202, JSON.stringify(res.body));
    x.socket.destroy();
  });

  it('a URL import whose source cuts the connection half way: the operation fails, saying so, and leaves nothing', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/images/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'sim-west', url: `http://127.0.0.1:${originPort}/half.ova` }),
    });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    let op: { status: string; error?: { message: string } } = { status: 'running' };
    assert.ok(
      await eventually(async () => {
        op = await (
          await fetch(`http://127.0.0.1:${port}/v1/operations/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
        ).json();
        return op.status === 'failed' || op.status === 'succeeded';
      }, 10_000),
      `the operation ends (still ${op.status})`,
    );
    assert.equal(op.status, 'failed');
    assert.match(op.error?.message ?? '', /half\.ova' closed the connection after \d+ of \d+ bytes/, op.error?.message);
    assert.ok(await eventually(async () => (await scratch()).length === 0, 2_000), 'no scratch directory left');
  });

  it('a buffered JSON body that trickles in past the total timeout is a 408 problem', async () => {
    const json = JSON.stringify({ name: 'slow-token', role: 'viewer' });
    const x = await open(
      `POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n`,
    );
    let answered = '';
    x.socket.on('data', (d) => {
      answered += d.toString('latin1');
    });
    for (const ch of json) {
      if (answered !== '' || x.socket.destroyed) break;
      x.socket.write(ch);
      await sleep(IDLE_MS / 4);
    }
    const res = parseAnswer(await x.answer(2_000));
    assert.equal(res.status, 408);
    assert.match(String(res.body.detail), /did not arrive whole within 0\.6 s/);
    assert.deepEqual(validateResponse('POST', '/v1/tokens', res.status, res.headers['content-type'], res.body), []);
    x.socket.destroy();
  });

  it("an EC2 form body that stalls is answered in EC2's dialect: 408 RequestTimeout, and the connection closed", async () => {
    const form = 'Action=DescribeInstances&Version=2016-11-15';
    const x = await open(
      `POST /ec2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        `Content-Length: ${form.length}\r\n\r\n`,
    );
    x.socket.write(form.slice(0, 10));
    const started = Date.now();
    const raw = await x.answer(IDLE_MS * 10);
    const waited = Date.now() - started;
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 408 /, raw);
    assert.match(head, /content-type: text\/xml/i);
    assert.match(head, /x-amzn-requestid: [0-9a-f-]{36}/i);
    assert.match(
      body,
      /<Code>RequestTimeout<\/Code><Message>The request body stopped arriving: no body data arrived for 0\.4 s \(idle timeout\)/,
    );
    assert.ok(waited >= IDLE_MS - 50 && waited < IDLE_MS * 5, `answered after the idle timeout (${waited} ms)`);
    assert.ok(
      await eventually(async () => x.socket.destroyed || x.socket.readableEnded, 4_000),
      'the gateway closes the connection',
    );
    x.socket.destroy();
  });
});

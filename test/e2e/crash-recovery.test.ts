/** kill -9 of a real gateway process in the middle of a create: after restart the operation finishes, with no duplicate VM. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Instance, Operation } from '../../src/core/model.js';

const TOKEN = 'crash-test-admin-token-0123456789';
let dataDir: string;
let configFile: string;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function startGateway(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    env: {
      ...process.env,
      SKYGATE_PORT: String(port),
      SKYGATE_DATA_DIR: dataDir,
      SKYGATE_CONFIG: configFile,
      SKYGATE_ADMIN_TOKEN: TOKEN,
      SKYGATE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('gateway did not start');
    await sleep(100);
  }
}

const call = async (port: number, method: string, p: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function waitDone(port: number, id: string): Promise<Operation> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const op = (await call(port, 'GET', `/v1/operations/${id}`)).body as unknown as Operation;
    if (op.status === 'succeeded' || op.status === 'failed') return op;
    if (Date.now() > deadline) throw new Error(`operation ${id} still ${op.status}`);
    await sleep(100);
  }
}

async function killAndRecover(name: string, killWhen: (port: number, opId: string) => Promise<void>) {
  const port = await freePort();
  const first = await startGateway(port);
  const res = await call(port, 'POST', '/v1/instances', {
    provider: 'sim-east',
    name,
    flavorId: 'sim.small',
    imageId: 'img-ubuntu-22-04',
  });
  assert.equal(res.status, 202);
  const opId = String(res.body.id);
  await killWhen(port, opId);
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));

  const second = await startGateway(port);
  try {
    const op = await waitDone(port, opId);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.ok(op.attempts >= 2, `the restarted gateway resumed the operation (attempts ${op.attempts})`);
    const list = await call(port, 'GET', `/v1/instances?name=${name}&fresh=true`);
    const items = list.body.items as Instance[];
    assert.equal(items.length, 1, `exactly one instance named ${name}: ${JSON.stringify(items.map((i) => i.id))}`);
    assert.equal(items[0]?.state, 'running');
    assert.equal(items[0]?.id, op.result?.resourceId);
  } finally {
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
  }
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'skygate-crash-'));
  configFile = path.join(dataDir, 'skygate.yaml');
  // A slow cloud, so the kill lands while the instance is still pending.
  await writeFile(configFile, 'providers:\n  - id: sim-east\n    type: sim\n    settings:\n      latencyMs: 2500\n');
});
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('crash recovery (kill -9 mid-create)', () => {
  it('kill right after the 202: the restart runs or repeats the create step without a second VM', async () => {
    await killAndRecover('crash-early', async () => undefined);
  });

  it('kill while waiting for the instance to run: the restart resumes the wait', async () => {
    await killAndRecover('crash-waiting', async (port, opId) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const op = (await call(port, 'GET', `/v1/operations/${opId}`)).body as unknown as Operation;
        if (op.steps[0]?.status === 'succeeded') {
          assert.equal(op.status, 'running', 'the kill must land before the operation finishes');
          return;
        }
        if (Date.now() > deadline) throw new Error('create step never finished');
        await sleep(20);
      }
    });
  });
});

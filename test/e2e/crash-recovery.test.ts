/**
 * kill -9 of a real gateway process in the middle of a create, at two fixed points; after a restart on the same
 * data the operation finishes with exactly one VM. The points: right after the cloud made the VM and before the
 * engine recorded the step (the engine's crash test hook kills the process there, so the restart repeats the
 * step), and while the engine waits for the VM to run (the restart resumes the wait).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Instance, Operation } from '../../src/core/model.js';
import { TEST_CRASH_AFTER_STEP } from '../../src/core/operations/engine.js';
import { openStore } from '../../src/store/index.js';
import { type GatewayProcess, startGatewayProcess, waitUntil } from '../helpers/gateway-process.js';

const TOKEN = 'crash-test-admin-token-0123456789';
/** A slow cloud, so a kill during the wait lands while the instance is still pending. */
const CONFIG = 'providers:\n  - id: sim-east\n    type: sim\n    settings:\n      latencyMs: 2500\n';
let dataDir: string;

const start = (env: Record<string, string> = {}) =>
  startGatewayProcess({ dataDir, config: CONFIG, env: { SKYGATE_ADMIN_TOKEN: TOKEN, SKYGATE_LOG_LEVEL: 'warn', ...env } });

const createBody = (name: string) => ({ provider: 'sim-east', name, flavorId: 'sim.small', imageId: 'img-ubuntu-22-04' });

/** The one operation the killed process left unfinished in the store. */
async function leftBehind(): Promise<Operation> {
  const store = await openStore({ dataDir });
  try {
    const [op, ...others] = await store.unfinishedOperations();
    assert.ok(op && others.length === 0, `one operation is unfinished after the kill: ${[op, ...others].length}`);
    return op;
  } finally {
    await store.close();
  }
}

/**
 * Restarts the gateway (after `meanwhile` ran against it) and checks the operation finished, resumed once, with
 * exactly one running VM named `name`.
 */
async function recovered(opId: string, name: string, meanwhile?: (gw: GatewayProcess) => Promise<void>): Promise<Operation> {
  const second = await start();
  try {
    await meanwhile?.(second);
    const op = await second.waitOperation(opId, 30_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.attempts, 2, 'the restarted gateway resumed the operation once');
    const items = (await second.api('get', `/v1/instances?name=${name}&fresh=true`)).body.items as Instance[];
    assert.equal(items.length, 1, `exactly one instance named ${name}: ${JSON.stringify(items.map((i) => i.id))}`);
    assert.equal(items[0]?.state, 'running');
    assert.equal(items[0]?.id, op.result?.resourceId);
    return op;
  } finally {
    await second.stop('SIGTERM');
  }
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'skygate-crash-'));
});
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('crash recovery (kill -9 mid-create)', () => {
  it('killed after the cloud made the VM, before the step was recorded: the restart repeats the step, one VM', async () => {
    const first: GatewayProcess = await start({ [TEST_CRASH_AFTER_STEP]: 'instance.create/request' });
    // The hook may kill the process before its 202 is out: the client then retries with the same key.
    const key = 'crash-repeat-1';
    const post = (gw: GatewayProcess) =>
      fetch(`${gw.url}/v1/instances`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(createBody('crash-repeat')),
        signal: AbortSignal.timeout(10_000),
      }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as Operation }),
        () => undefined,
      );
    const answered = await post(first);
    const how = await first.exited;
    assert.equal(how.signal, 'SIGKILL', `the test hook killed the gateway: ${JSON.stringify(how)}\n${first.output()}`);

    // What the crash left: the create reached the cloud (its id is in the step's state) but the step is not done.
    const crashed = await leftBehind();
    if (answered) assert.equal(answered.body.id, crashed.id);
    assert.equal(crashed.steps[0]?.name, 'request');
    assert.equal(crashed.steps[0]?.status, 'running', 'killed before the engine recorded the step');
    const made = (crashed.state.instances as Array<string | null>)[0];
    assert.match(String(made), /^i-[0-9a-f]{17}$/, 'the cloud had made the VM');

    const op = await recovered(crashed.id, 'crash-repeat', async (second) => {
      const again = await post(second);
      assert.equal(again?.status, 202, 'the restarted gateway answers the retry');
      assert.equal(again?.body.id, crashed.id, 'the retry with the same key answers the first operation');
    });
    assert.equal(op.result?.resourceId, `sim-east:${made}`, 'the repeated step kept the VM the cloud had made');
  });

  it('killed while waiting for the VM to run: the restart resumes the wait, one VM', async () => {
    const first = await start();
    const res = await first.api('post', '/v1/instances', createBody('crash-waiting'));
    assert.equal(res.status, 202);
    const opId = String(res.body.id);
    await waitUntil(
      'the create step recorded',
      async () => {
        const op = (await first.api('get', `/v1/operations/${opId}`)).body as Operation;
        if (op.steps[0]?.status !== 'succeeded') return false;
        assert.equal(op.status, 'running', 'the kill must land before the operation finishes');
        return true;
      },
      10_000,
      20,
    );
    await first.stop('SIGKILL');
    const crashed = await leftBehind();
    assert.equal(crashed.id, opId);
    assert.deepEqual(
      crashed.steps.map((s) => s.status),
      ['succeeded', 'running'],
    );
    await recovered(opId, 'crash-waiting');
  });
});

/** The operations engine's own decisions: idempotency keys (the one place that hashes a request) and waitFor. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SkygateError } from '../../src/core/errors.js';
import type { Operation } from '../../src/core/model.js';
import type { CommandDefinition } from '../../src/core/operations/engine.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
/** Steps of the test command wait for this gate, so a test decides when an operation moves on. */
let openGate: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();
const closeGate = () => {
  gate = new Promise((resolve) => {
    openGate = resolve;
  });
};

const gated: CommandDefinition = {
  kind: 'test.gated',
  steps: [
    {
      name: 'first',
      async run(ctx) {
        ctx.op.state.mark = 'first done';
      },
    },
    {
      name: 'second',
      async run() {
        await gate;
      },
    },
  ],
  result: (op) => ({ mark: op.state.mark }),
};

before(async () => {
  gw = await startTestGateway();
  gw.gateway.internals.engine.register(gated);
});
after(async () => {
  openGate();
  await gw.close();
});

const engine = () => gw.gateway.internals.engine;
const submit = (input: Record<string, unknown>, key?: string, principal = 'tok-a') =>
  engine().submit({
    kind: 'test.gated',
    provider: 'sim-east',
    input,
    caller: { principal, ...(key !== undefined && { idempotencyKey: key }) },
  });

describe('idempotency keys', () => {
  it('answers the first operation for the same key and request, and refuses the key for another request', async () => {
    const first = await submit({ n: 1 }, 'key-1');
    const again = await submit({ n: 1 }, 'key-1');
    assert.equal(first.created, true);
    assert.equal(again.created, false);
    assert.equal(again.operation.id, first.operation.id);
    await assert.rejects(submit({ n: 2 }, 'key-1'), (e: SkygateError) => {
      assert.equal(e.code, 'conflict');
      assert.equal(e.field, 'header.idempotency-key');
      return true;
    });
  });

  it('scopes a key to its principal and leaves keyless submissions alone', async () => {
    const a = await submit({ n: 3 }, 'shared-key', 'tok-a');
    const b = await submit({ n: 3 }, 'shared-key', 'tok-b');
    assert.notEqual(a.operation.id, b.operation.id);
    const c = await submit({ n: 3 });
    const d = await submit({ n: 3 });
    assert.notEqual(c.operation.id, d.operation.id);
  });
});

describe('waitFor', () => {
  it('wakes as soon as the operation reaches the point asked for, without waiting for it to finish', async () => {
    closeGate();
    const { operation } = await submit({ n: 4 });
    const reached = await engine().waitFor(operation.id, (op) => op.state.mark === 'first done', 5_000);
    assert.equal(reached?.state.mark, 'first done');
    assert.equal(reached?.status, 'running', 'the second step is still held by the gate');
    openGate();
    const finished = await engine().waitFor(operation.id, () => false, 5_000);
    assert.equal(finished?.status, 'succeeded');
    assert.deepEqual(finished?.result, { mark: 'first done' });
  });

  it('answers the operation as it is once the time is up, and undefined for an unknown one', async () => {
    closeGate();
    const { operation } = await submit({ n: 5 });
    const started = Date.now();
    const op = (await engine().waitFor(operation.id, () => false, 300)) as Operation;
    assert.ok(Date.now() - started >= 290, 'waited the time given');
    assert.equal(op.status, 'running');
    openGate();
    assert.equal(await engine().waitFor('op-missing', () => true, 100), undefined);
  });
});

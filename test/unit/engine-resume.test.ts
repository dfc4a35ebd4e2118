/**
 * The operations engine's resume after a crash, engine against engine over one store and real sim clouds: a
 * restarted engine runs again only the step that was interrupted, and a repeated launch step neither makes a
 * second VM (client token) nor creates again once a rollback had begun.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Operation } from '../../src/core/model.js';
import { EventBus } from '../../src/core/events.js';
import { type CommandDefinition, OperationEngine } from '../../src/core/operations/engine.js';
import { LAUNCH_KIND, type LaunchInput, launchCommand } from '../../src/core/operations/launch-command.js';
import { ProviderRegistry } from '../../src/core/registry.js';
import { InventoryService } from '../../src/core/services/inventory.js';
import type { InstanceAttributes, Store } from '../../src/core/store-port.js';
import { loadAdapter } from '../../src/server/adapter-loader.js';
import { loadConfig } from '../../src/server/config.js';
import { openStore } from '../../src/store/index.js';
import { simProviders } from '../helpers/gateway.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** One gateway process's worth of core: what a restart builds again over the same data directory. */
interface Process {
  store: Store;
  registry: ProviderRegistry;
  engine: OperationEngine;
  /** Instance attributes the launch command recorded, by skygate id. */
  launched: Map<string, InstanceAttributes>;
  close(): Promise<void>;
}

let dataDir: string;
const open: Process[] = [];

async function boot(...commands: CommandDefinition[]): Promise<Process> {
  const config = loadConfig({ SKYGATE_DATA_DIR: dataDir });
  const store = await openStore({ dataDir });
  const registry = new ProviderRegistry(simProviders(20), loadAdapter, dataDir, quiet, config.adapterCalls);
  await registry.init();
  const inventory = new InventoryService(store, registry, config.inventory);
  await inventory.init();
  const engine = new OperationEngine(store, registry, inventory, new EventBus(store), quiet);
  const launched = new Map<string, InstanceAttributes>();
  engine.register(
    launchCommand(async (id, attributes) => launched.set(id, attributes)),
    ...commands,
  );
  let closed = false;
  const p: Process = {
    store,
    registry,
    engine,
    launched,
    async close() {
      if (closed) return;
      closed = true;
      await registry.close();
      await store.close();
    },
  };
  open.push(p);
  return p;
}

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'skygate-resume-'));
});
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A launch operation as the engine persists it at submit time, before any step ran. */
function submittedLaunch(input: Partial<LaunchInput>, state: Record<string, unknown> = {}): Operation {
  const now = new Date().toISOString();
  const launch: LaunchInput = {
    provider: 'sim-east',
    name: 'resumed',
    flavorId: 'sim.small',
    imageId: 'img-ubuntu-22-04',
    tags: {},
    minCount: 1,
    maxCount: 1,
    attributes: {},
    ...input,
  };
  return {
    id: `op-${randomUUID()}`,
    kind: LAUNCH_KIND,
    status: 'pending',
    progress: 0,
    provider: 'sim-east',
    input: launch as unknown as Record<string, unknown>,
    steps: [
      { name: 'request', status: 'pending' },
      { name: 'wait-running', status: 'pending' },
    ],
    state,
    createdAt: now,
    updatedAt: now,
    attempts: 0,
  };
}

async function resumeAll(p: Process): Promise<void> {
  await p.engine.resumeUnfinished();
  await p.engine.idle();
}

describe('resume after a crash', () => {
  it('runs again only the interrupted step, with the state the recorded steps left', async () => {
    const runs: string[] = [];
    /** While true, the second step never returns: the first engine is "killed" inside it. */
    let hang = true;
    const stepped: CommandDefinition = {
      kind: 'test.stepped',
      steps: [
        {
          name: 'first',
          async run(ctx) {
            runs.push('first');
            ctx.op.state.first = 'left by the first step';
          },
        },
        {
          name: 'second',
          async run(ctx) {
            runs.push('second');
            if (hang) await new Promise<never>(() => undefined);
            ctx.op.state.second = `saw: ${String(ctx.op.state.first)}`;
          },
        },
        {
          name: 'third',
          async run() {
            runs.push('third');
          },
        },
      ],
      result: (op) => ({ second: op.state.second }),
    };
    const first = await boot(stepped);
    const { operation } = await first.engine.submit({ kind: 'test.stepped', provider: 'sim-east', input: {} });
    const inStep = await first.engine.waitFor(operation.id, (op) => op.steps[1]?.status === 'running', 5_000);
    assert.deepEqual(
      inStep?.steps.map((s) => s.status),
      ['succeeded', 'running', 'pending'],
    );
    // The crash: this engine never writes again (its runner hangs for ever); its store and clouds go away.
    await first.close();

    hang = false;
    const second = await boot(stepped);
    assert.equal(await second.engine.resumeUnfinished(), 1);
    await second.engine.idle();
    const op = (await second.engine.get(operation.id)) as Operation;
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.attempts, 2);
    assert.deepEqual(runs, ['first', 'second', 'second', 'third'], 'the recorded first step did not run again');
    assert.deepEqual(op.result, { second: 'saw: left by the first step' });
    assert.ok(op.steps.every((s) => s.status === 'succeeded'));
    assert.equal(await second.engine.resumeUnfinished(), 0, 'a finished operation is not resumed');
  });

  it('a repeated create step answers the VM the cloud already made for it: one VM, not two', async () => {
    const op = submittedLaunch({ name: 'made-before-crash' });
    const before = await boot();
    await before.store.insertOperation(op);
    // The killed process's create had reached the cloud, with the operation id as its client token.
    const made = await before.registry.cloud('sim-east').createInstance({
      name: 'made-before-crash',
      flavorId: 'sim.small',
      imageId: 'img-ubuntu-22-04',
      clientToken: op.id,
    });
    await before.close();

    const after = await boot();
    await resumeAll(after);
    const done = (await after.engine.get(op.id)) as Operation;
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.result?.resourceId, `sim-east:${made.nativeId}`);
    const all = (await after.registry.cloud('sim-east').listInstances()).items;
    assert.deepEqual(
      all.filter((i) => i.name === 'made-before-crash').map((i) => i.nativeId),
      [made.nativeId],
    );
    assert.equal(after.launched.get(`sim-east:${made.nativeId}`)?.launchId, op.id, 'the launch was recorded on the VM');
  });

  it('a launch killed while rolling back finishes the rollback on resume and creates nothing', async () => {
    const before = await boot();
    const cloud = before.registry.cloud('sim-east');
    const op = submittedLaunch({ name: 'half', minCount: 2, maxCount: 2 });
    const survivor = await cloud.createInstance({
      name: 'half-0',
      flavorId: 'sim.small',
      imageId: 'img-ubuntu-22-04',
      clientToken: `${op.id}-0`,
    });
    // As the crash left it: one create made a VM, the other failed, the rollback had begun.
    op.status = 'running';
    op.attempts = 1;
    op.steps[0] = { name: 'request', status: 'running' };
    op.state = {
      instances: [survivor.nativeId, null],
      failures: [{ code: 'quota_exceeded', message: 'instance 1: instance quota reached' }],
      rollingBack: true,
    };
    await before.store.insertOperation(op);
    await before.close();

    const after = await boot();
    await resumeAll(after);
    const done = (await after.engine.get(op.id)) as Operation;
    assert.equal(done.status, 'failed');
    assert.equal(done.error?.code, 'quota_exceeded');
    assert.match(String(done.error?.message), new RegExp(`rolled back: terminated sim-east:${survivor.nativeId}`));
    const half = (await after.registry.cloud('sim-east').listInstances()).items.filter((i) => i.name.startsWith('half'));
    assert.deepEqual(
      half.map((i) => [i.nativeId, i.state]),
      [[survivor.nativeId, 'terminated']],
      'the VM made before the crash is terminated and no create ran again',
    );
  });
});

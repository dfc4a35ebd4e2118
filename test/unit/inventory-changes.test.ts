/**
 * The inventory refreshed by changes: the sim tells what changed since its last token (writes of any process,
 * transitions and linger times that fell due, removals), and the inventory applies only that, yet ends up with the
 * very view a full listing would make.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCloudAdapter } from '../../adapters/sim/index.js';
import type { CloudAdapter, Instance, NativeChanges, NativeInstance } from '../../src/core/index.js';
import { ProviderRegistry } from '../../src/core/registry.js';
import { InventoryService } from '../../src/core/services/inventory.js';
import type { Store } from '../../src/core/store-port.js';
import { loadAdapter } from '../../src/server/adapter-loader.js';
import { openStore } from '../../src/store/index.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const LATENCY_MS = 150;
const RETENTION_MS = 300;

const spec = (n: string) => ({ name: n, flavorId: 'sim.small', imageId: 'img-cirros-0-6', clientToken: `tok-${n}` });

describe('sim listChanges', () => {
  let dir: string;
  let sim: CloudAdapter;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skygate-changes-sim-'));
    sim = await createCloudAdapter({
      providerId: 'sim-a',
      settings: { latencyMs: LATENCY_MS, terminatedRetentionMs: RETENTION_MS },
      dataDir: dir,
      log: silent,
    });
  });
  after(async () => {
    await sim.close?.();
    await rm(dir, { recursive: true, force: true });
  });

  const changes = async (since: string | undefined, recheck: string[] = []) => {
    const answer = (await sim.listChanges?.('instance', since, recheck)) as NativeChanges<NativeInstance>;
    assert.ok(answer, 'the sim offers listChanges');
    return answer;
  };
  const states = (a: NativeChanges<NativeInstance>) =>
    Object.fromEntries((a.changes?.items ?? []).map((i) => [i.name, i.state] as const));

  it('answers no changes without a token, or with a token of another adapter object: list everything', async () => {
    const first = await changes(undefined);
    assert.equal(first.changes, undefined);
    assert.match(first.next, /\S/);
    const other = await createCloudAdapter({ providerId: 'sim-a', settings: {}, dataDir: dir, log: silent });
    try {
      const foreign = await other.listChanges?.('instance', first.next, []);
      assert.equal(foreign?.changes, undefined, "another adapter object's token is not trusted");
    } finally {
      await other.close?.();
    }
    assert.equal((await changes('not-a-token')).changes, undefined);
  });

  it('reports writes, transitions falling due by time, removals and rechecks, and nothing when nothing changed', async () => {
    let token = (await changes(undefined)).next;
    const quiet = await changes(token);
    assert.deepEqual(quiet.changes, { items: [], gone: [] }, 'an unchanged provider reports nothing');
    token = quiet.next;

    const a = await sim.createInstance(spec('a'));
    const b = await sim.createInstance(spec('b'));
    let answer = await changes(token);
    assert.deepEqual(states(answer), { a: 'pending', b: 'pending' });
    token = answer.next;

    // No write happens when a transition falls due: the sim still reports it.
    await sleep(LATENCY_MS + 50);
    answer = await changes(token);
    assert.deepEqual(states(answer), { a: 'running', b: 'running' });
    token = answer.next;
    assert.deepEqual((await changes(token)).changes, { items: [], gone: [] });

    await sim.setTags?.('instance', a.nativeId, { team: 'blue' });
    await sim.stopInstance(b.nativeId);
    answer = await changes(token);
    assert.deepEqual(states(answer), { a: 'running', b: 'stopping' });
    assert.deepEqual(answer.changes?.items.find((i) => i.name === 'a')?.tags, { team: 'blue' });
    token = answer.next;

    // A recheck answers the instance as it is, changed or not; an unknown id is gone.
    answer = await changes(token, [a.nativeId, 'i-00000000000000000']);
    assert.deepEqual(states(answer), { a: 'running' });
    assert.deepEqual(answer.changes?.gone, ['i-00000000000000000']);

    // Terminated: listed as terminated until the linger time ends, then gone, again without a write.
    await sim.deleteInstance(a.nativeId);
    await sleep(LATENCY_MS + 50);
    answer = await changes(token);
    assert.equal(states(answer).a, 'terminated');
    token = answer.next;
    await sleep(RETENTION_MS);
    answer = await changes(token);
    assert.deepEqual(answer.changes?.gone, [a.nativeId]);
    assert.equal(
      (await sim.listInstances()).items.some((i) => i.nativeId === a.nativeId),
      false,
    );
    token = answer.next;

    // A removed row (an image deleted outright) is reported gone through its tombstone.
    let imageToken = (await sim.listChanges?.('image', undefined, []))?.next;
    const image = await sim.createImageFromInstance(b.nativeId, { name: 'snap-b', clientToken: 'img-b' });
    const imageAnswer = await sim.listChanges?.('image', imageToken, []);
    assert.deepEqual(
      imageAnswer?.changes?.items.map((i) => i.nativeId),
      [image.nativeId],
    );
    imageToken = imageAnswer?.next;
    await sim.deleteImage(image.nativeId);
    assert.deepEqual((await sim.listChanges?.('image', imageToken, []))?.changes?.gone, [image.nativeId]);
  });

  it("sees another process's writes to the same sim file", async () => {
    const token = (await changes(undefined)).next;
    const other = await createCloudAdapter({ providerId: 'sim-a', settings: { latencyMs: 0 }, dataDir: dir, log: silent });
    try {
      await other.createInstance(spec('from-elsewhere'));
    } finally {
      await other.close?.();
    }
    assert.deepEqual(states(await changes(token)), { 'from-elsewhere': 'running' });
  });
});

describe('InventoryService refreshed by changes', () => {
  let dir: string;
  let store: Store;
  let registry: ProviderRegistry;
  let inventory: InventoryService;
  let sim: CloudAdapter;
  let fullListings = 0;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skygate-changes-inv-'));
    store = await openStore({ dataDir: dir });
    registry = new ProviderRegistry(
      [{ id: 'sim-a', type: 'sim', settings: { latencyMs: LATENCY_MS, terminatedRetentionMs: RETENTION_MS } }],
      loadAdapter,
      dir,
      silent,
    );
    await registry.init();
    inventory = new InventoryService(store, registry, { maxAgeMs: 60_000, providerTimeoutMs: 3_000 });
    await inventory.init();
    sim = registry.cloud('sim-a');
    // Counts full listings (the adapter's own method runs as before).
    const listInstances = sim.listInstances;
    sim.listInstances = (page) => {
      if (page?.marker === undefined) fullListings++;
      return listInstances(page);
    };
    for (const n of ['x', 'y', 'z']) await sim.createInstance(spec(n));
  });
  after(async () => {
    await registry.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const listed = async () => {
    const page = await inventory.list('instance', { limit: 1000, fresh: true });
    return Object.fromEntries(page.items.map((i) => [i.name, i.state] as const));
  };

  it('lists in full once, then follows changes made directly in the sim without listing again', async () => {
    assert.deepEqual(await listed(), { x: 'pending', y: 'pending', z: 'pending' });
    assert.equal(fullListings, 1);

    await sleep(LATENCY_MS + 50);
    assert.deepEqual(await listed(), { x: 'running', y: 'running', z: 'running' }, 'transitions by time');

    const items = (await inventory.list('instance', { limit: 1000 })).items;
    const x = items.find((i) => i.name === 'x') as Instance;
    const y = items.find((i) => i.name === 'y') as Instance;
    await sim.stopInstance(x.nativeId);
    await sim.deleteInstance(y.nativeId);
    await sim.createInstance(spec('w'));
    assert.deepEqual(await listed(), { w: 'pending', x: 'stopping', y: 'terminating', z: 'running' });
    await sleep(LATENCY_MS + 50);
    assert.deepEqual(await listed(), { w: 'running', x: 'stopped', y: 'terminated', z: 'running' });
    await sleep(RETENTION_MS);
    assert.deepEqual(await listed(), { w: 'running', x: 'stopped', z: 'running' }, 'a terminated instance goes');
    assert.equal(fullListings, 1, 'no full listing after the first');

    // The store follows too: a restarted gateway loads the same view.
    const again = new InventoryService(store, registry, { maxAgeMs: 60_000, providerTimeoutMs: 3_000 });
    await again.init();
    const loaded = await again.list('instance', { limit: 1000 });
    assert.deepEqual(Object.fromEntries(loaded.items.map((i) => [i.name, i.state] as const)), {
      w: 'running',
      x: 'stopped',
      z: 'running',
    });
  });

  it("shows an unchanged provider's resources as observed at the last refresh", async () => {
    const first = await inventory.list('instance', { limit: 1000, fresh: true });
    await sleep(20);
    const second = await inventory.list('instance', { limit: 1000, fresh: true });
    const status = second.providers[0];
    assert.equal(status?.status, 'fresh');
    for (const item of second.items) assert.equal(item.observedAt, status?.observedAt);
    assert.ok((second.items[0]?.observedAt ?? '') > (first.items[0]?.observedAt ?? ''));
    const json = JSON.parse((await inventory.listJson('instance', { limit: 1000 })).toString()) as {
      items: Array<{ observedAt: string }>;
    };
    for (const item of json.items) assert.equal(item.observedAt, status?.observedAt);
  });

  it('corrects what the gateway wrote when the provider says otherwise, as a full listing would', async () => {
    const z = (await inventory.list('instance', { limit: 1000 })).items.find((i) => i.name === 'z');
    assert.equal(z?.state, 'running');
    // An accepted stop shows `stopping` at once; here the sim never got the stop, so the next refresh undoes it.
    await inventory.markTransition('instance', z?.id as string, 'running', 'stopping');
    assert.equal((await inventory.list('instance', { limit: 1000 })).items.find((i) => i.name === 'z')?.state, 'stopping');
    await sleep(5);
    assert.equal((await listed()).z, 'running');
  });

  it('moves the generation when a resource changes, not when a refresh only confirms the listing', async () => {
    await listed();
    const before = await inventory.generation('instance', ['sim-a']);
    await sleep(5);
    await listed();
    assert.equal(await inventory.generation('instance', ['sim-a']), before, 'a refresh that found nothing');
    const w = (await inventory.list('instance', { limit: 1000 })).items.find((i) => i.name === 'w') as Instance;
    await sim.setTags?.('instance', w.nativeId, { moved: 'yes' });
    await listed();
    assert.notEqual(await inventory.generation('instance', ['sim-a']), before, 'a tag changed behind the gateway');
  });

  it('ends with the same view as a fresh full listing', async () => {
    const viaChanges = await inventory.list('instance', { limit: 1000, fresh: true });
    const fresh = new InventoryService(store, registry, { maxAgeMs: 60_000, providerTimeoutMs: 3_000 });
    const full = await fresh.list('instance', { limit: 1000, fresh: true });
    const strip = (items: Array<{ observedAt?: string }>) => items.map(({ observedAt: _o, ...rest }) => rest);
    assert.deepEqual(strip(viaChanges.items), strip(full.items));
  });
});

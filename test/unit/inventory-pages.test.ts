/** The encoded-page cache behind the REST listing: a kept page is reused, and never outlives a change to what it shows. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Instance } from '../../src/core/model.js';
import { ProviderRegistry } from '../../src/core/registry.js';
import { InventoryService } from '../../src/core/services/inventory.js';
import { EncodedPages, InventoryView } from '../../src/core/services/inventory-view.js';
import type { Store } from '../../src/core/store-port.js';
import { loadAdapter } from '../../src/server/adapter-loader.js';
import { openStore } from '../../src/store/index.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:05.000Z';
const silent = { info() {}, warn() {}, error() {}, debug() {} };

function vm(n: number, extra: Partial<Instance> = {}): Instance {
  const nativeId = `i-${String(n).padStart(4, '0')}`;
  return {
    id: `p:${nativeId}`,
    provider: 'p',
    nativeId,
    observedAt: T0,
    name: `vm-${n}`,
    state: 'running',
    flavorId: 'p:small',
    imageId: 'p:img',
    zone: 'a',
    tags: {},
    createdAt: T0,
    ...extra,
  };
}

interface Page {
  items: Array<{ id: string; state: string; freshness: string; observedAt: string }>;
  nextCursor?: string;
  providers: Array<{ id: string; status: string }>;
}
const parse = (b: Buffer) => JSON.parse(b.toString('utf8')) as Page;

describe('EncodedPages', () => {
  it('keeps pages within its byte budget, dropping the least recently read first', () => {
    const pages = new EncodedPages(30);
    pages.set('a', Buffer.alloc(10));
    pages.set('b', Buffer.alloc(10));
    pages.set('c', Buffer.alloc(10));
    assert.ok(pages.get('a'), 'a is read, so b is now the oldest');
    pages.set('d', Buffer.alloc(10));
    assert.equal(pages.get('b'), undefined);
    assert.deepEqual(
      ['a', 'c', 'd'].map((k) => pages.get(k)?.length),
      [10, 10, 10],
    );
    pages.set('huge', Buffer.alloc(31));
    assert.equal(pages.get('huge'), undefined, 'a page larger than the whole budget is not kept');
    assert.equal(pages.size, 3);
  });
});

describe('InventoryView.encodedPage', () => {
  it('builds a page once, and again after every kind of change', async () => {
    const view = new InventoryView<'instance'>();
    await view.replaceProvider('p', [vm(1), vm(2)], T0);
    let builds = 0;
    const page = () =>
      view.encodedPage('all', () => {
        builds++;
        return Buffer.from(JSON.stringify(view.page({}, undefined, 10).map((e) => InventoryView.toResource(e, 'fresh'))));
      });
    const ids = () => (JSON.parse(page().toString()) as Instance[]).map((i) => `${i.id}/${i.state}/${i.observedAt}`);

    assert.deepEqual(ids(), [`p:i-0001/running/${T0}`, `p:i-0002/running/${T0}`]);
    assert.equal(page(), page(), 'the same bytes are served while nothing changes');
    assert.equal(builds, 1);

    view.put(vm(3));
    assert.deepEqual(ids(), [`p:i-0001/running/${T0}`, `p:i-0002/running/${T0}`, `p:i-0003/running/${T0}`]);
    view.put(vm(3, { state: 'stopped' }));
    assert.equal(ids()[2], `p:i-0003/stopped/${T0}`);
    view.put(vm(3, { state: 'stopped', observedAt: T1 }));
    assert.equal(ids()[2], `p:i-0003/stopped/${T1}`, 'a new observation time alone is shown too');
    view.delete('p:i-0003');
    assert.deepEqual(ids(), [`p:i-0001/running/${T0}`, `p:i-0002/running/${T0}`]);
    await view.replaceProvider('p', [vm(2, { observedAt: T1 })], T1);
    assert.deepEqual(ids(), [`p:i-0002/running/${T1}`]);
    assert.equal(builds, 6);
  });
});

describe('InventoryService.listJson with a page cache', () => {
  let dir: string;
  let store: Store;
  let registry: ProviderRegistry;
  let inventory: InventoryService;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skygate-pages-'));
    store = await openStore({ dataDir: dir });
    const providers = ['sim-east', 'sim-west'].map((id) => ({ id, type: 'sim', settings: { latencyMs: 0 } }));
    registry = new ProviderRegistry(providers, loadAdapter, dir, silent);
    await registry.init();
    // A long max age: only this test's own changes and explicit fresh reads refresh the view.
    inventory = new InventoryService(store, registry, { maxAgeMs: 60_000, providerTimeoutMs: 3_000 });
    await inventory.init();
    const sim = registry.cloud('sim-east');
    for (let i = 0; i < 3; i++) {
      await sim.createInstance({ name: `vm-${i}`, flavorId: 'sim.small', imageId: 'img-ubuntu-22-04', clientToken: `t-${i}` });
    }
  });
  after(async () => {
    await registry.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the kept bytes for a repeated query, and each change in the very next listing', async () => {
    const q = { providers: ['sim-east'], limit: 100 };
    const first = await inventory.listJson('instance', { ...q, fresh: true });
    assert.equal(parse(first).items.length, 3);
    assert.equal(await inventory.listJson('instance', q), first, 'a repeated query is served from the cache');
    assert.notEqual(await inventory.listJson('instance', { ...q, limit: 2 }), first, 'another query is another page');
    assert.equal(parse(await inventory.listJson('instance', { ...q, limit: 2 })).items.length, 2);

    // A create that finishes records the instance (as the operation's last step does): the next read shows it.
    const sim = registry.cloud('sim-east');
    const created = await sim.createInstance({
      name: 'new-one',
      flavorId: 'sim.small',
      imageId: 'img-ubuntu-22-04',
      clientToken: 't-new',
    });
    const recorded = await inventory.record('instance', 'sim-east', created);
    const afterCreate = parse(await inventory.listJson('instance', q));
    assert.ok(
      afterCreate.items.some((i) => i.id === recorded.id),
      'the created instance is in the next listing',
    );
    assert.equal(afterCreate.items.length, 4);

    // A change of state seen by a read of one instance.
    await sim.stopInstance(created.nativeId);
    await inventory.get('instance', recorded.id);
    const stopped = parse(await inventory.listJson('instance', q)).items.find((i) => i.id === recorded.id);
    assert.notEqual(stopped?.state, 'running');

    // A resource the gateway forgets (a delete it learned of).
    await inventory.forget('instance', recorded.id);
    const afterForget = parse(await inventory.listJson('instance', q));
    assert.deepEqual(
      afterForget.items.map((i) => i.id),
      parse(first).items.map((i) => i.id),
    );

    // A change made behind the gateway's back, picked up by a fresh read (with the stopped one, still in the cloud).
    const outside = await sim.createInstance({
      name: 'outside',
      flavorId: 'sim.small',
      imageId: 'img-ubuntu-22-04',
      clientToken: 't-out',
    });
    const refreshed = parse(await inventory.listJson('instance', { ...q, fresh: true })).items.map((i) => i.id);
    assert.ok(refreshed.includes(`sim-east:${outside.nativeId}`));
    assert.ok(refreshed.includes(recorded.id));
    assert.equal(refreshed.length, 5);
  });

  it('shows a provider turning stale at once, though no resource changed', async () => {
    const q = { providers: ['sim-east'], limit: 100 };
    const before = parse(await inventory.listJson('instance', { ...q, fresh: true }));
    assert.equal(before.providers[0]?.status, 'fresh');
    const sim = registry.cloud('sim-east');
    await sim.extensions?.setFaults?.({ outage: true });
    try {
      const during = parse(await inventory.listJson('instance', { ...q, fresh: true }));
      assert.equal(during.providers[0]?.status, 'stale');
      assert.ok(during.items.length > 0);
      assert.ok(during.items.every((i) => i.freshness === 'stale'));
    } finally {
      await sim.extensions?.setFaults?.({ outage: false });
    }
    const recovered = parse(await inventory.listJson('instance', { ...q, fresh: true }));
    assert.equal(recovered.providers[0]?.status, 'fresh');
  });

  it('pages by cursor through the cache without repeating or skipping an item', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = parse(await inventory.listJson('instance', { limit: 2, ...(cursor && { cursor }) }));
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    const all = parse(await inventory.listJson('instance', { limit: 100 })).items.map((i) => i.id);
    assert.deepEqual(seen, all);
    assert.equal(new Set(seen).size, seen.length);
  });
});

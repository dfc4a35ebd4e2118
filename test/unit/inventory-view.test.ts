/** The inventory's in-memory read model: ordering, keyset pages, filters, refresh diffs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Instance } from '../../src/core/model.js';
import { InventoryView } from '../../src/core/services/inventory-view.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:05.000Z';
const T2 = '2026-01-01T00:00:10.000Z';

function vm(provider: string, n: number, extra: Partial<Instance> = {}): Instance {
  const nativeId = `i-${String(n).padStart(4, '0')}`;
  return {
    id: `${provider}:${nativeId}`,
    provider,
    nativeId,
    observedAt: T0,
    name: `vm-${n}`,
    state: 'running',
    flavorId: `${provider}:small`,
    imageId: `${provider}:img`,
    zone: 'a',
    tags: { shard: String(n % 3) },
    createdAt: T0,
    ...extra,
  };
}

describe('InventoryView', () => {
  it('pages in id order across providers, each item once', async () => {
    const view = new InventoryView<'instance'>();
    await view.replaceProvider('b-cloud', [vm('b-cloud', 2), vm('b-cloud', 1)], T0);
    await view.replaceProvider('a-cloud', [vm('a-cloud', 3), vm('a-cloud', 1)], T0);
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = view.page({}, after, 3);
      ids.push(...page.map((e) => e.resource.id));
      if (page.length < 3) break;
      after = page.at(-1)?.resource.id;
    }
    assert.deepEqual(ids, ['a-cloud:i-0001', 'a-cloud:i-0003', 'b-cloud:i-0001', 'b-cloud:i-0002']);
  });

  it('filters by provider, state, name and tags', async () => {
    const view = new InventoryView<'instance'>();
    await view.replaceProvider('p', [vm('p', 1), vm('p', 2, { state: 'stopped' }), vm('p', 3), vm('p', 4, { tags: {} })], T0);
    await view.replaceProvider('q', [vm('q', 1)], T0);
    const ids = (f: Parameters<typeof view.page>[0]) => view.page(f, undefined, 100).map((e) => e.resource.id);
    assert.deepEqual(ids({ providers: ['q'] }), ['q:i-0001']);
    assert.deepEqual(ids({ providers: ['p'], state: 'stopped' }), ['p:i-0002']);
    assert.deepEqual(ids({ name: 'vm-3' }), ['p:i-0003']);
    assert.deepEqual(ids({ providers: ['p'], tags: [{ key: 'shard', value: '1' }] }), ['p:i-0001']);
    assert.deepEqual(ids({ providers: ['p'], tags: [{ key: 'shard' }] }), ['p:i-0001', 'p:i-0002', 'p:i-0003']);
  });

  it('a refresh reports only what changed, and keeps what was recorded after its listing began', async () => {
    const view = new InventoryView<'instance'>();
    await view.replaceProvider('p', [vm('p', 1), vm('p', 2)], T0);
    // Created by the gateway while the next listing was in flight:
    view.put(vm('p', 9, { observedAt: T2 }));
    const diff = await view.replaceProvider('p', [vm('p', 1, { observedAt: T1 }), vm('p', 3, { observedAt: T1 })], T1);
    assert.deepEqual(
      diff.changed.map((r) => r.id),
      ['p:i-0003'],
    );
    assert.deepEqual(diff.gone, ['p:i-0002']);
    assert.deepEqual(
      view.page({}, undefined, 10).map((e) => e.resource.id),
      ['p:i-0001', 'p:i-0003', 'p:i-0009'],
    );
    assert.equal(view.get('p:i-0001')?.observedAt, T1, 'an unchanged resource still moves its observation time');
  });

  it('a resource recorded or forgotten while a refresh runs is not reported gone by it', async () => {
    const view = new InventoryView<'instance'>();
    await view.replaceProvider('p', [vm('p', 1), vm('p', 2), vm('p', 3), vm('p', 4)], T0);
    // The refresh lists only 1; it yields to the event loop before its final step, as it does under load.
    const refresh = view.replaceProvider('p', [vm('p', 1, { observedAt: T1 })], T1);
    view.put(vm('p', 2, { observedAt: T2 })); // recorded by the gateway meanwhile
    view.delete('p:i-0003'); // forgotten meanwhile
    const diff = await refresh;
    assert.deepEqual(diff.gone, ['p:i-0004']);
    assert.deepEqual(
      view.page({}, undefined, 10).map((e) => e.resource.id),
      ['p:i-0001', 'p:i-0002'],
    );
  });

  it('a refresh sees a change anywhere in a resource, and none where only the observation moved', async () => {
    const view = new InventoryView<'instance'>();
    const base = (n: number) => vm('p', n, { tags: { env: 'prod', team: 'a' }, privateIp: '10.0.0.1' });
    await view.replaceProvider('p', [1, 2, 3, 4, 5].map(base), T0);
    const next: Instance[] = [
      { ...base(1), observedAt: T1 }, // only observed again
      { ...base(2), observedAt: T1, tags: { env: 'prod', team: 'b' } }, // a nested value
      { ...base(3), observedAt: T1, tags: { env: 'prod' } }, // a nested key gone
      { ...base(4), observedAt: T1, privateIp: undefined }, // a field gone (JSON drops undefined)
      { ...base(5), observedAt: T1, freshness: 'stale' }, // freshness is not the resource's own
    ];
    const diff = await view.replaceProvider('p', next, T1);
    assert.deepEqual(
      diff.changed.map((r) => r.id),
      ['p:i-0002', 'p:i-0003', 'p:i-0004'],
    );
    for (const e of view.page({}, undefined, 10)) {
      const resource = next.find((r) => r.id === e.resource.id);
      assert.deepEqual(
        JSON.parse(InventoryView.toJson(e, 'fresh')),
        JSON.parse(JSON.stringify({ ...resource, freshness: 'fresh' })),
      );
    }
  });

  it('serialises each entry to the same JSON as the resource object', async () => {
    const view = new InventoryView<'instance'>();
    await view.replaceProvider('p', [vm('p', 1)], T0);
    const [entry] = view.page({}, undefined, 1);
    assert.ok(entry);
    assert.deepEqual(JSON.parse(InventoryView.toJson(entry, 'stale')), InventoryView.toResource(entry, 'stale'));
    assert.equal(view.put(vm('p', 1, { observedAt: T1 })), false, 'a new observation alone is no change');
    assert.equal(view.put(vm('p', 1, { state: 'stopped' })), true);
    assert.ok(view.delete('p:i-0001'));
    assert.equal(view.size, 0);
  });
});

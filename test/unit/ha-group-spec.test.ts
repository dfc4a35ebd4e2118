/**
 * A protection group's spec: defaults filled in, and every refusal naming its field, all of them at once. What the
 * spec refers to is looked up for real: a provider registry of sim clouds (one without a load balancer), their
 * load balancers' pools and their instances, through the inventory over a SQLite store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SkygateError } from '../../src/core/errors.js';
import type { Instance } from '../../src/core/model.js';
import { ProviderRegistry } from '../../src/core/registry.js';
import { InventoryService } from '../../src/core/services/inventory.js';
import type { Store } from '../../src/core/store-port.js';
import { registryLookups } from '../../src/ha/group-lookups.js';
import type { ProtectionGroupSpec } from '../../src/ha/protection-group.js';
import { checkProtectionGroup, checkProtectionGroupSpec, type GroupLookups } from '../../src/ha/protection-group-spec.js';
import { loadAdapter } from '../../src/server/adapter-loader.js';
import { openStore } from '../../src/store/index.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

let dir: string;
let store: Store;
let registry: ProviderRegistry;
let lookups: GroupLookups;
let web1: Instance;
let web2: Instance;
let westVm: Instance;

/** A spec that passes; each test breaks one part of it. */
const good = () => ({
  name: 'shop',
  primary: 'sim-east',
  instances: { selector: { app: 'shop' } },
  standbys: ['sim-west'],
  replication: { rpoSeconds: 60 },
  traffic: { lbProvider: 'sim-east', poolId: 'web', port: 8000 },
});

/** The problems the check finds in `raw` (it must refuse it with invalid_input). */
async function problems(raw: unknown): Promise<Array<{ field: string; reason: string }>> {
  try {
    await checkProtectionGroupSpec(raw, lookups);
  } catch (e) {
    assert.ok(e instanceof SkygateError, `expected a SkygateError, got ${String(e)}`);
    assert.equal(e.code, 'invalid_input', e.message);
    assert.ok(e.errors && e.errors.length > 0, 'errors lists the fields');
    assert.equal(e.field, e.errors[0]?.field);
    return e.errors;
  }
  return assert.fail('expected invalid_input');
}

/** Asserts that `raw` is refused for `field` alone, with a reason matching `reason`. */
async function refusedFor(raw: unknown, field: string, reason: RegExp): Promise<void> {
  const found = await problems(raw);
  assert.deepEqual(
    found.map((p) => p.field),
    [field],
    JSON.stringify(found),
  );
  assert.match(found[0]?.reason ?? '', reason);
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'skygate-group-spec-'));
  store = await openStore({ dataDir: path.join(dir, 'store') });
  registry = new ProviderRegistry(
    [
      { id: 'sim-east', type: 'sim', settings: { latencyMs: 0 }, loadBalancer: { settings: { pools: ['web', 'api'] } } },
      { id: 'sim-west', type: 'sim', settings: { latencyMs: 0 }, loadBalancer: {} },
      { id: 'sim-bare', type: 'sim', settings: { latencyMs: 0 } },
    ],
    loadAdapter,
    dir,
    silent,
  );
  await registry.init();
  const inventory = new InventoryService(store, registry);
  await inventory.init();
  lookups = registryLookups(registry, inventory);
  const launch = async (provider: string, name: string, tags: Record<string, string>) => {
    const native = await registry
      .cloud(provider)
      .createInstance({ name, flavorId: 'sim.small', imageId: 'img-ubuntu-22-04', tags, clientToken: name });
    return inventory.get('instance', `${provider}:${native.nativeId}`);
  };
  web1 = await launch('sim-east', 'web-1', { app: 'shop', tier: '1' });
  web2 = await launch('sim-east', 'web-2', { app: 'shop', tier: '2' });
  westVm = await launch('sim-west', 'west-1', { app: 'shop' });
});

after(async () => {
  await registry.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a good spec', () => {
  it('gets every default, and selects the primary instances by tag (not those of other sites)', async () => {
    const { spec, instances } = await checkProtectionGroup(good(), lookups);
    const expected: ProtectionGroupSpec = {
      ...good(),
      standbyMode: 'cold',
      replication: { rpoSeconds: 60, retain: 3 },
      healthCheck: {
        protocol: 'http',
        port: 8000,
        path: '/healthz',
        expectStatus: 200,
        intervalMs: 1000,
        timeoutMs: 500,
        fall: 2,
        rise: 2,
      },
      failoverMode: 'automatic',
    };
    assert.deepEqual(spec, expected);
    assert.deepEqual(instances.map((i) => i.id).sort(), [web1.id, web2.id].sort());
  });

  it('keeps what is given, and takes instances by id', async () => {
    const spec = await checkProtectionGroupSpec(
      {
        ...good(),
        instances: { ids: [web2.id] },
        standbyMode: 'warm',
        replication: { rpoSeconds: 0.5, retain: 7 },
        healthCheck: { protocol: 'tcp', port: 22, intervalMs: 2000, timeoutMs: 1999, fall: 1, rise: 3 },
        failoverMode: 'manual',
        orderTag: 'tier',
      },
      lookups,
    );
    assert.deepEqual(spec.instances, { ids: [web2.id] });
    assert.deepEqual(
      [spec.standbyMode, spec.replication, spec.failoverMode, spec.orderTag],
      ['warm', { rpoSeconds: 0.5, retain: 7 }, 'manual', 'tier'],
    );
    assert.deepEqual(spec.healthCheck, { protocol: 'tcp', port: 22, intervalMs: 2000, timeoutMs: 1999, fall: 1, rise: 3 });
  });

  it('re-checks a changed spec against the stored one without looking its instances up again', async () => {
    const stored = await checkProtectionGroupSpec(good(), lookups);
    const missing = { ...stored, instances: { ids: ['sim-east:i-gone'] } };
    const { spec } = await checkProtectionGroup({ ...missing, standbyMode: 'warm' }, lookups, missing);
    assert.equal(spec.standbyMode, 'warm');
    assert.deepEqual(spec.instances, { ids: ['sim-east:i-gone'] });
  });
});

describe('refusals, each naming its field', () => {
  it('a missing or invalid name', async () => {
    const { name: _name, ...nameless } = good();
    await refusedFor(nameless, 'name', /string/);
    await refusedFor({ ...good(), name: 'a\nb' }, 'name', /control character/);
    await refusedFor({ ...good(), name: '' }, 'name', /1 to 255/);
  });

  it('an RPO of zero or less, or not a number; retain below 1', async () => {
    for (const rpoSeconds of [0, -5, 'ten', Number.NaN, 10_000_000]) {
      await refusedFor({ ...good(), replication: { rpoSeconds } }, 'replication.rpoSeconds', /above 0/);
    }
    await refusedFor({ ...good(), replication: {} }, 'replication.rpoSeconds', /above 0/);
    await refusedFor({ ...good(), replication: { rpoSeconds: 60, retain: 0 } }, 'replication.retain', /from 1/);
    await refusedFor({ ...good(), replication: { rpoSeconds: 60, retain: 1.5 } }, 'replication.retain', /integer/);
  });

  it('a standby that is the primary, one listed twice, none at all', async () => {
    await refusedFor({ ...good(), standbys: ['sim-east'] }, 'standbys[0]', /is the primary/);
    await refusedFor({ ...good(), standbys: ['sim-west', 'sim-west'] }, 'standbys[1]', /listed twice/);
    await refusedFor({ ...good(), standbys: [] }, 'standbys', /at least one/);
  });

  it('unknown providers as primary or standby', async () => {
    const found = await problems({ ...good(), primary: 'sim-north' });
    assert.deepEqual(found[0], {
      field: 'primary',
      reason: "provider 'sim-north' is not configured (known: sim-east, sim-west, sim-bare)",
    });
    await refusedFor({ ...good(), standbys: ['sim-west', 'sim-south'] }, 'standbys[1]', /'sim-south' is not configured/);
  });

  it('an unknown load balancer provider, a provider without one, a pool it does not have', async () => {
    await refusedFor(
      { ...good(), traffic: { ...good().traffic, lbProvider: 'lb-nowhere' } },
      'traffic.lbProvider',
      /not configured/,
    );
    await refusedFor(
      { ...good(), traffic: { ...good().traffic, lbProvider: 'sim-bare' } },
      'traffic.lbProvider',
      /'sim-bare' has no load balancer/,
    );
    await refusedFor(
      { ...good(), traffic: { ...good().traffic, poolId: 'mail' } },
      'traffic.poolId',
      /no pool 'mail' \(its pools: (web, api|api, web)\)/,
    );
  });

  it('a traffic port out of range', async () => {
    for (const port of [0, 65536, 80.5, '80']) {
      await refusedFor({ ...good(), traffic: { ...good().traffic, port } }, 'traffic.port', /1 to 65535/);
    }
  });

  it('a health check that can never pass: its timeout not below its interval', async () => {
    await refusedFor(
      { ...good(), healthCheck: { intervalMs: 1000, timeoutMs: 1000 } },
      'healthCheck.timeoutMs',
      /less than intervalMs/,
    );
    await refusedFor({ ...good(), healthCheck: { timeoutMs: 5000 } }, 'healthCheck.timeoutMs', /less than intervalMs/);
  });

  it('neither ids nor selector, both, or a selection that finds nothing', async () => {
    await refusedFor({ ...good(), instances: {} }, 'instances', /ids .* or selector/);
    await refusedFor({ ...good(), instances: { ids: [web1.id], selector: { app: 'shop' } } }, 'instances', /not both/);
    await refusedFor({ ...good(), instances: { ids: [] } }, 'instances.ids', /1 to 100/);
    await refusedFor({ ...good(), instances: { selector: {} } }, 'instances.selector', /non-empty/);
    await refusedFor(
      { ...good(), instances: { selector: { app: 'none' } } },
      'instances.selector',
      /no instance at 'sim-east' carries app=none/,
    );
  });

  it('instances of another provider than the primary, named with their provider; unknown and repeated ones', async () => {
    await refusedFor(
      { ...good(), instances: { ids: [web1.id, westVm.id] } },
      'instances.ids[1]',
      new RegExp(`instance '${westVm.id}' is at provider 'sim-west', not at the primary 'sim-east'`),
    );
    await refusedFor({ ...good(), instances: { ids: ['sim-east:i-nope'] } }, 'instances.ids[0]', /does not exist/);
    await refusedFor({ ...good(), instances: { ids: [web1.id, web1.id] } }, 'instances.ids[1]', /listed twice/);
    await refusedFor({ ...good(), instances: { ids: ['no-colon'] } }, 'instances.ids[0]', /not a skygate id/);
  });

  it('an order tag whose value is not a number', async () => {
    await refusedFor(
      { ...good(), instances: { ids: [web1.id] }, orderTag: 'app' },
      'orderTag',
      new RegExp(`instance '${web1.id}' has app=shop, not a number`),
    );
  });

  it('unknown keys, at the top and inside', async () => {
    await refusedFor({ ...good(), colour: 'blue' }, 'colour', /not a field/);
    await refusedFor({ ...good(), replication: { rpoSeconds: 60, rpo: 5 } }, 'replication.rpo', /not a field/);
    await refusedFor({ ...good(), traffic: { ...good().traffic, host: 'x' } }, 'traffic.host', /not a field/);
    await refusedFor({ ...good(), instances: { selector: { app: 'shop' }, all: true } }, 'instances.all', /not a field/);
    await refusedFor({ ...good(), healthCheck: { intervalMS: 900 } }, 'healthCheck.intervalMS', /not a health check field/);
  });

  it('enums and shapes', async () => {
    await refusedFor({ ...good(), standbyMode: 'hot' }, 'standbyMode', /cold, warm/);
    await refusedFor({ ...good(), failoverMode: 'sometimes' }, 'failoverMode', /automatic, manual/);
    await refusedFor({ ...good(), traffic: 'lb' }, 'traffic', /object/);
    await refusedFor('shop', 'body', /object/);
  });

  it('lists every problem at once', async () => {
    const found = await problems({
      name: '',
      primary: 'sim-east',
      instances: { ids: [westVm.id] },
      standbys: ['sim-east'],
      replication: { rpoSeconds: -1, retain: 0 },
      healthCheck: { intervalMs: 500, timeoutMs: 600 },
      traffic: { lbProvider: 'sim-east', poolId: 'nope', port: 8000 },
      extra: 1,
    });
    assert.deepEqual(found.map((p) => p.field).sort(), [
      'extra',
      'healthCheck.timeoutMs',
      'instances.ids[0]',
      'name',
      'replication.retain',
      'replication.rpoSeconds',
      'standbys[0]',
      'traffic.poolId',
    ]);
  });
});

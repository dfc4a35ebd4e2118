/**
 * The HA records in the store, on SQLite and PostgreSQL alike: protection groups (name unique, generations), replicas
 * (newest first), and leases whose fencing token grows on every takeover and is checked by every fenced write.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { isSkygateError } from '../../src/core/errors.js';
import type { ReplicaRecord, Store } from '../../src/core/store-port.js';
import { openStore } from '../../src/store/index.js';
import { freshSchema, type ScopedDatabase } from '../helpers/postgres-schema.js';

const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-01-01T00:00:05.000Z';
const stale = (e: unknown) => isSkygateError(e) && e.code === 'conflict' && /fencing token/.test(e.message);

function replica(id: string, site: string, member: string, dataAt: string): ReplicaRecord {
  return {
    id,
    groupId: 'pg-1',
    member,
    sourceProvider: 'sim-east',
    sourceInstanceId: 'i-1',
    site,
    imageId: `img-${id}`,
    dataAt,
    createdAt: dataAt,
  };
}

function storeSuite(name: string, open: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  describe(`HA records in the store (${name})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await open());
    });
    after(async () => {
      await store.close();
      await dispose();
    });

    it('keeps protection groups by unique name and grows their generation on each write', async () => {
      const base = { spec: { a: 1 }, status: { primary: 'east' }, createdAt: T1, updatedAt: T1 };
      assert.equal(await store.insertProtectionGroup({ id: 'pg-1', name: 'shop', ...base }), true);
      assert.equal(await store.insertProtectionGroup({ id: 'pg-2', name: 'shop', ...base }), false, 'names are unique');
      assert.equal(await store.getProtectionGroup('pg-2'), undefined);
      const g = await store.updateProtectionGroup('pg-1', { status: { primary: 'west' }, updatedAt: T2 });
      assert.deepEqual([g.generation, g.spec, g.status, g.updatedAt], [2, { a: 1 }, { primary: 'west' }, T2]);
      await assert.rejects(
        store.updateProtectionGroup('pg-1', { spec: { a: 2 }, updatedAt: T2 }, { expectGeneration: 1 }),
        (e) => isSkygateError(e) && e.code === 'conflict',
      );
      assert.deepEqual((await store.getProtectionGroup('pg-1'))?.spec, { a: 1 }, 'a refused write changes nothing');
      await assert.rejects(
        store.updateProtectionGroup('nope', { status: {}, updatedAt: T2 }),
        (e) => isSkygateError(e) && e.code === 'not_found',
      );
      assert.deepEqual(
        (await store.listProtectionGroups()).map((x) => x.name),
        ['shop'],
      );
    });

    it('lists replicas newest data first, by site and member', async () => {
      await store.insertReplica(replica('r1', 'west', 'web', T1));
      await store.insertReplica(replica('r2', 'west', 'web', T2));
      await store.insertReplica(replica('r3', 'north', 'web', T2));
      await store.insertReplica(replica('r4', 'west', 'db', T1));
      assert.deepEqual(
        (await store.listReplicas('pg-1', { site: 'west', member: 'web' })).map((r) => r.id),
        ['r2', 'r1'],
      );
      assert.deepEqual((await store.listReplicas('pg-1', { site: 'west' })).map((r) => r.id).sort(), ['r1', 'r2', 'r4']);
      assert.equal((await store.listReplicas('pg-1')).length, 4);
      assert.deepEqual(await store.listReplicas('pg-1', { site: 'north' }), [replica('r3', 'north', 'web', T2)]);
      assert.equal(await store.deleteReplica('r1'), true);
      assert.equal(await store.deleteReplica('r1'), false);
    });

    it('grants a lease to one holder, renews it with the same token, and grows the token on takeover', async () => {
      const now = Date.parse(T1);
      const a = await store.acquireLease('pg-1', 'ctl-a', 10_000, now);
      assert.equal(a?.token, 1);
      assert.equal(await store.acquireLease('pg-1', 'ctl-b', 10_000, now + 1000), undefined, 'held by another');
      assert.equal((await store.acquireLease('pg-1', 'ctl-a', 10_000, now + 2000))?.token, 1, 'a renewal keeps the token');
      const b = await store.acquireLease('pg-1', 'ctl-b', 10_000, now + 20_000);
      assert.deepEqual([b?.holder, b?.token], ['ctl-b', 2], 'an expired lease is taken over with a new token');
      await store.releaseLease('pg-1', 'ctl-b');
      assert.equal((await store.acquireLease('pg-1', 'ctl-a', 10_000, now + 21_000))?.token, 3);
    });

    it('refuses every fenced write made with a stale token, and writes nothing', async () => {
      const now = Date.parse(T2) + 60_000;
      const old = (await store.acquireLease('fence-test', 'ctl-a', 1000, now))!;
      const fresh = (await store.acquireLease('fence-test', 'ctl-b', 1000, now + 5000))!;
      assert.equal(fresh.token, old.token + 1);
      const staleFence = { lease: 'fence-test', token: old.token };
      const goodFence = { lease: 'fence-test', token: fresh.token };
      const pool = { lbProvider: 'edge', poolId: 'app', targets: [], updatedAt: T1 };
      await assert.rejects(store.putDesiredPool(pool, undefined, staleFence), stale);
      assert.equal(await store.getDesiredPool('edge', 'app'), undefined, 'nothing written');
      assert.equal((await store.putDesiredPool(pool, undefined, goodFence)).generation, 1);
      const before = await store.getProtectionGroup('pg-1');
      await assert.rejects(
        store.updateProtectionGroup('pg-1', { status: { primary: 'x' }, updatedAt: T2 }, { fence: staleFence }),
        stale,
      );
      assert.deepEqual(await store.getProtectionGroup('pg-1'), before);
      await assert.rejects(store.insertReplica(replica('r9', 'west', 'web', T2), staleFence), stale);
      assert.equal(
        (await store.listReplicas('pg-1')).some((r) => r.id === 'r9'),
        false,
      );
      await store.insertReplica(replica('r9', 'west', 'web', T2), goodFence);
      await assert.rejects(
        store.putDesiredPool(pool, undefined, { lease: 'never-taken', token: 1 }),
        stale,
        'a lease that does not exist fences too',
      );
    });

    it('gives a contested lease to exactly one of many concurrent takers', async () => {
      const now = Date.parse(T2) + 120_000;
      const got = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.acquireLease('contested', `ctl-${i}`, 10_000, now)),
      );
      assert.equal(got.filter((l) => l !== undefined).length, 1);
    });

    it('deletes a group with its replicas and lease', async () => {
      assert.equal(await store.deleteProtectionGroup('pg-1'), true);
      assert.deepEqual(await store.listReplicas('pg-1'), []);
      assert.equal(await store.getLease('pg-1'), undefined);
      assert.equal(await store.deleteProtectionGroup('pg-1'), false);
    });
  });
}

storeSuite('sqlite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'skygate-ha-store-'));
  return { store: await openStore({ dataDir }), dispose: () => rm(dataDir, { recursive: true, force: true }) };
});

const postgresUrl = process.env.SKYGATE_TEST_DATABASE_URL;
if (postgresUrl) {
  storeSuite('postgres', async () => {
    const db: ScopedDatabase = await freshSchema(postgresUrl);
    return { store: await openStore({ dataDir: '/nonexistent', databaseUrl: db.url }), dispose: () => db.drop() };
  });
} else {
  test('HA records in the store (postgres)', {
    skip: 'SKYGATE_TEST_DATABASE_URL is not set; scripts/ensure-postgres.sh prints one',
  }, () => {});
}

/** Retention's store write, on SQLite and PostgreSQL alike: a replica's record is deleted only under a fresh fence. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, test } from 'node:test';
import { isSkygateError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/store-port.js';
import { openStore } from '../../src/store/index.js';
import { freshSchema } from '../helpers/postgres-schema.js';

const AT = '2026-01-01T00:00:00.000Z';

function suite(name: string, open: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  describe(`fenced replica deletes (${name})`, () => {
    it('deletes under the current token, and refuses a stale one, deleting nothing', async () => {
      const { store, dispose } = await open();
      try {
        const now = Date.parse(AT);
        const old = await store.acquireLease('protection-group/g', 'ctl-a', 1000, now);
        const fresh = await store.acquireLease('protection-group/g', 'ctl-b', 1000, now + 5000);
        assert.ok(old && fresh && fresh.token === old.token + 1);
        for (const id of ['r1', 'r2']) {
          const record = { id, groupId: 'g', member: 'm', sourceProvider: 'east', sourceInstanceId: 'east:i-1' };
          await store.insertReplica({ ...record, site: 'west', imageId: `west:${id}`, dataAt: AT, createdAt: AT });
        }
        await assert.rejects(
          store.deleteReplica('r1', { lease: 'protection-group/g', token: old.token }),
          (e) => isSkygateError(e) && e.code === 'conflict' && /stale/.test(e.message),
        );
        assert.equal((await store.listReplicas('g')).length, 2, 'a stale delete deletes nothing');
        assert.equal(await store.deleteReplica('r1', { lease: 'protection-group/g', token: fresh.token }), true);
        assert.equal(await store.deleteReplica('r1', { lease: 'protection-group/g', token: fresh.token }), false);
        assert.equal(await store.deleteReplica('r2'), true, 'unfenced still works');
        assert.deepEqual(await store.listReplicas('g'), []);
      } finally {
        await store.close();
        await dispose();
      }
    });
  });
}

suite('sqlite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'skygate-replica-fence-'));
  return { store: await openStore({ dataDir }), dispose: () => rm(dataDir, { recursive: true, force: true }) };
});

const postgresUrl = process.env.SKYGATE_TEST_DATABASE_URL;
if (postgresUrl) {
  suite('postgres', async () => {
    const db = await freshSchema(postgresUrl);
    return { store: await openStore({ dataDir: '/nonexistent', databaseUrl: db.url }), dispose: () => db.drop() };
  });
} else {
  test('fenced replica deletes (postgres)', { skip: 'SKYGATE_TEST_DATABASE_URL is not set' }, () => {});
}

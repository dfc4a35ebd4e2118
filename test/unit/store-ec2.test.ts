/** Store contract tests for the EC2 tables (access keys, id aliases, key pairs, instance attributes), on SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { openStore, type OpenStoreOptions } from '../../src/store/index.js';
import type { KeyPair, Store } from '../../src/core/store-port.js';

interface Backend {
  name: 'sqlite' | 'postgres';
  /** Options for a store of its own, and how to throw it away afterwards. */
  provision(): Promise<{ options: OpenStoreOptions; dispose(): Promise<void> }>;
}

const sqlite: Backend = {
  name: 'sqlite',
  async provision() {
    const dataDir = await mkdtemp(join(tmpdir(), 'skygate-store-ec2-'));
    return { options: { dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
  },
};

/** Every test gets a fresh schema, selected through the connection's search_path, so runs never see each other. */
function postgres(url: string): Backend {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  after(() => admin.end());
  return {
    name: 'postgres',
    async provision() {
      const schema = `skygate_test_${randomUUID().replaceAll('-', '')}`;
      await admin.query(`create schema ${schema}`);
      const scoped = new URL(url);
      scoped.searchParams.set('options', `-c search_path=${schema}`);
      return {
        options: { dataDir: '/nonexistent', databaseUrl: scoped.toString() },
        dispose: async () => {
          await admin.query(`drop schema ${schema} cascade`);
        },
      };
    },
  };
}

const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-01T00:05:00.000Z';
const T2 = '2025-01-01T00:10:00.000Z';

function keyPair(provider: string, name: string, extra: Partial<KeyPair> = {}): KeyPair {
  return {
    id: `key-${name}-${provider}`,
    provider,
    name,
    keyType: 'ed25519',
    fingerprint: 'SHA256:abc',
    publicKey: `ssh-ed25519 AAAA ${name}`,
    tags: { team: 'blue' },
    createdAt: T0,
    ...extra,
  };
}

function defineSuite(backend: Backend): void {
  describe(`store EC2 tables (${backend.name})`, () => {
    /** Runs `fn` against a freshly opened, migrated store and cleans up after it. */
    function it(name: string, fn: (store: Store, t: TestContext, options: OpenStoreOptions) => Promise<void>): void {
      test(name, async (t) => {
        const { options, dispose } = await backend.provision();
        const store = await openStore(options);
        try {
          await fn(store, t, options);
        } finally {
          await store.close();
          await dispose();
        }
      });
    }

    it('migrates idempotently across reopenings, keeping the new tables', async (store, _t, options) => {
      await store.insertAccessKey({ id: 'AKIA1', tokenId: 'tok-1', name: 'ci', role: 'viewer', createdAt: T0, secret: 's' });
      const again = await openStore(options);
      try {
        await again.migrate();
        assert.deepEqual(
          (await again.listAccessKeys()).map((k) => k.id),
          ['AKIA1'],
        );
      } finally {
        await again.close();
      }
    });

    it('stores, finds, lists by token and revokes access keys, and reads a token by id', async (store) => {
      await store.insertToken({ id: 'tok-1', name: 'ops', role: 'operator', createdAt: T0, hash: 'h1' });
      assert.deepEqual(await store.getToken('tok-1'), { id: 'tok-1', name: 'ops', role: 'operator', createdAt: T0 });
      assert.equal(await store.getToken('nope'), undefined);
      await store.revokeToken('tok-1', T2);
      assert.equal((await store.getToken('tok-1'))?.revokedAt, T2, 'a revoked token is still found by id');

      await store.insertAccessKey({ id: 'AKIB', tokenId: 'tok-2', name: 'b', role: 'viewer', createdAt: T1, secret: 'c2' });
      await store.insertAccessKey({ id: 'AKIA', tokenId: 'tok-1', name: 'a', role: 'operator', createdAt: T0, secret: 'c1' });
      await assert.rejects(
        store.insertAccessKey({ id: 'AKIA', tokenId: 'tok-1', name: 'dup', role: 'viewer', createdAt: T1, secret: 'x' }),
        'ids are unique',
      );
      assert.deepEqual(await store.getAccessKey('AKIA'), {
        id: 'AKIA',
        tokenId: 'tok-1',
        name: 'a',
        role: 'operator',
        createdAt: T0,
        secret: 'c1',
      });
      assert.equal(await store.getAccessKey('nope'), undefined);
      assert.deepEqual(
        (await store.listAccessKeys()).map((k) => k.id),
        ['AKIA', 'AKIB'],
        'oldest first',
      );
      assert.deepEqual(
        (await store.listAccessKeys('tok-2')).map((k) => k.id),
        ['AKIB'],
      );
      assert.ok(
        (await store.listAccessKeys()).every((k) => !('secret' in k)),
        'listing never reads secrets',
      );

      assert.equal(await store.revokeAccessKey('AKIA', T1), true);
      assert.equal(await store.revokeAccessKey('AKIA', T2), true);
      assert.equal((await store.getAccessKey('AKIA'))?.revokedAt, T1, 'the first revocation stands');
      assert.equal(await store.revokeAccessKey('nope', T1), false);
    });

    it('records id aliases once per namespace and resolves them in bulk', async (store) => {
      await store.putIdAliases([
        { namespace: 'ec2', alias: 'i-1', kind: 'instance', target: 'sim1:a' },
        { namespace: 'ec2', alias: 'ami-1', kind: 'image', target: 'sim1:img' },
        { namespace: 'occi', alias: 'i-1', kind: 'instance', target: 'sim2:b' },
      ]);
      await store.putIdAliases([{ namespace: 'ec2', alias: 'i-1', kind: 'instance', target: 'sim9:other' }]);
      const got = await store.getIdAliases('ec2', ['i-1', 'ami-1', 'i-missing']);
      assert.deepEqual(
        got.sort((a, b) => a.alias.localeCompare(b.alias)),
        [
          { namespace: 'ec2', alias: 'ami-1', kind: 'image', target: 'sim1:img' },
          { namespace: 'ec2', alias: 'i-1', kind: 'instance', target: 'sim1:a' },
        ],
        'the first target of an alias stands; namespaces are apart',
      );
      assert.deepEqual(await store.getIdAliases('ec2', []), []);

      const many = Array.from({ length: 1200 }, (_, n) => ({
        namespace: 'ec2',
        alias: `i-${n}`,
        kind: 'instance',
        target: `sim1:${n}`,
      }));
      await store.putIdAliases(many);
      assert.equal(
        (
          await store.getIdAliases(
            'ec2',
            many.map((a) => a.alias),
          )
        ).length,
        1200,
        'bulk beyond one chunk',
      );
    });

    it('keeps key pairs per provider with unique names and ids', async (store) => {
      assert.equal(await store.insertKeyPair(keyPair('sim1', 'deploy')), true);
      assert.equal(await store.insertKeyPair(keyPair('sim1', 'admin')), true);
      assert.equal(await store.insertKeyPair(keyPair('sim2', 'deploy')), true, 'names are per provider');
      assert.equal(
        await store.insertKeyPair(keyPair('sim1', 'deploy', { id: 'key-other' })),
        false,
        'a taken name writes nothing',
      );
      assert.deepEqual(await store.listKeyPairs('sim1'), [keyPair('sim1', 'admin'), keyPair('sim1', 'deploy')]);
      assert.equal(await store.deleteKeyPair('sim1', 'deploy'), true);
      assert.equal(await store.deleteKeyPair('sim1', 'deploy'), false);
      assert.deepEqual(
        (await store.listKeyPairs('sim1')).map((k) => k.name),
        ['admin'],
      );
      assert.deepEqual(
        (await store.listKeyPairs('sim2')).map((k) => k.name),
        ['deploy'],
      );
    });

    it('replaces and reads instance attributes in bulk', async (store) => {
      await store.putInstanceAttributes({
        instanceId: 'sim1:i-1',
        attributes: { disableApiTermination: true, userData: 'aGk=', securityGroups: ['sim1:sg'] },
        updatedAt: T0,
      });
      await store.putInstanceAttributes({ instanceId: 'sim1:i-2', attributes: { keyName: 'deploy' }, updatedAt: T0 });
      await store.putInstanceAttributes({ instanceId: 'sim1:i-1', attributes: { ebsOptimized: true }, updatedAt: T1 });
      const got = await store.getInstanceAttributes(['sim1:i-1', 'sim1:i-2', 'sim1:i-3']);
      assert.deepEqual(
        got.sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
        [
          { instanceId: 'sim1:i-1', attributes: { ebsOptimized: true }, updatedAt: T1 },
          { instanceId: 'sim1:i-2', attributes: { keyName: 'deploy' }, updatedAt: T0 },
        ],
        'a put replaces the whole record',
      );
      assert.deepEqual(await store.getInstanceAttributes([]), []);
    });
  });
}

defineSuite(sqlite);

const postgresUrl = process.env.SKYGATE_TEST_DATABASE_URL;
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (postgresUrl) {
  defineSuite(postgres(postgresUrl));
} else if (inCi) {
  test('store EC2 tables (postgres)', () => {
    assert.fail(
      'SKYGATE_TEST_DATABASE_URL is not set, but CI must run the PostgreSQL suite: export SKYGATE_TEST_DATABASE_URL=$(scripts/ensure-postgres.sh)',
    );
  });
} else {
  test('store EC2 tables (postgres)', {
    skip: 'SKYGATE_TEST_DATABASE_URL is not set; scripts/ensure-postgres.sh prints one',
  }, () => {});
}

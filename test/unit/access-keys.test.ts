/** Access keys on a real SQLite store: secrets sealed at rest, roles capped by the token's, revocation of key and token. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SkygateError } from '../../src/core/errors.js';
import { EventBus } from '../../src/core/events.js';
import type { Principal } from '../../src/core/model.js';
import { AccessKeyService } from '../../src/core/services/access-keys.js';
import { AuthService } from '../../src/core/services/auth.js';
import { SecretBox } from '../../src/core/services/secret-box.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/core/store-port.js';

let dir: string;
let store: Store;
let auth: AuthService;
let keys: AccessKeyService;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'skygate-keys-'));
  store = await openStore({ dataDir: dir });
  auth = new AuthService(store, new EventBus(store));
  keys = new AccessKeyService(store, await SecretBox.open(dir), new EventBus(store));
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function principal(role: Principal['role']): Promise<Principal> {
  const t = await auth.issue(`${role}-token`, role);
  return { tokenId: t.id, name: t.name, role };
}

describe('SecretBox', () => {
  it('generates its key once, mode 0600, and opens what it sealed', async () => {
    const box = await SecretBox.open(dir);
    const file = path.join(dir, 'secret.key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const first = await readFile(file, 'utf8');
    const again = await SecretBox.open(dir);
    assert.equal(await readFile(file, 'utf8'), first, 'a second open keeps the key');
    const sealed = box.seal('s3cret');
    assert.notEqual(box.seal('s3cret'), sealed, 'a fresh nonce every time');
    assert.equal(again.open(sealed), 's3cret');
  });

  it('takes a configured key in hex or base64, refuses a short one, and fails loudly on the wrong key', async () => {
    const hex = 'ab'.repeat(32);
    const box = await SecretBox.open(dir, hex);
    const same = await SecretBox.open(dir, Buffer.from(hex, 'hex').toString('base64'));
    assert.equal(same.open(box.seal('x')), 'x');
    await assert.rejects(SecretBox.open(dir, 'too-short'), (e: SkygateError) => e.field === 'SKYGATE_SECRET_KEY');
    const other = await SecretBox.open(dir, 'cd'.repeat(32));
    assert.throws(() => other.open(box.seal('x')), /does not decrypt/);
  });

  it('refuses a key file that is not a key', async () => {
    const bad = await mkdtemp(path.join(tmpdir(), 'skygate-badkey-'));
    try {
      await writeFile(path.join(bad, 'secret.key'), 'nope\n', { mode: 0o600 });
      await assert.rejects(SecretBox.open(bad), /32-byte key/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});

describe('AccessKeyService', () => {
  it('issues an AWS-shaped key whose secret is stored sealed, and resolves it', async () => {
    const owner = await principal('operator');
    const issued = await keys.issue(owner, { name: 'ci' });
    assert.match(issued.id, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(issued.secretAccessKey.length, 40);
    assert.equal(issued.role, 'operator');
    const stored = await store.getAccessKey(issued.id);
    assert.ok(stored && !stored.secret.includes(issued.secretAccessKey));
    const resolved = await keys.resolve(issued.id);
    assert.equal(resolved?.secret, issued.secretAccessKey);
    assert.deepEqual(resolved?.principal, {
      tokenId: owner.tokenId,
      name: `${owner.name} (access key ${issued.id})`,
      role: 'operator',
    });
    assert.equal(await keys.resolve('AKIAUNKNOWNUNKNOWN00'), undefined);
  });

  it("caps the role at the caller's, and lets each caller see and revoke only their own keys", async () => {
    const viewer = await principal('viewer');
    const admin = await principal('admin');
    await assert.rejects(
      keys.issue(viewer, { role: 'operator' }),
      (e: SkygateError) => e.code === 'forbidden' && e.field === 'body.role',
    );
    const own = await keys.issue(viewer, {});
    const lowered = await keys.issue(admin, { role: 'viewer' });
    assert.equal((await keys.resolve(lowered.id))?.principal.role, 'viewer');
    assert.deepEqual(
      (await keys.list(viewer)).map((k) => k.id),
      [own.id],
    );
    assert.ok(
      (await keys.list(admin)).some((k) => k.id === own.id),
      'an admin sees every key',
    );
    await assert.rejects(keys.revoke(viewer, lowered.id), (e: SkygateError) => e.code === 'not_found');
    await keys.revoke(viewer, own.id);
    assert.equal(await keys.resolve(own.id), undefined);
    await keys.revoke(admin, lowered.id);
  });

  it('stops resolving a key whose token is revoked', async () => {
    const owner = await principal('operator');
    const key = await keys.issue(owner, {});
    const fresh = new AccessKeyService(store, await SecretBox.open(dir), new EventBus(store));
    await auth.revoke(owner.tokenId);
    assert.equal(await fresh.resolve(key.id), undefined);
  });
});

describe('audit', () => {
  it('records token and access key changes as events from the services themselves, whichever front asks', async () => {
    const before = (await store.eventsSince(0, 10_000)).length;
    const token = await auth.issue('audited', 'operator', 'tok-admin');
    const owner: Principal = { tokenId: token.id, name: 'audited', role: 'operator' };
    const key = await keys.issue(owner, { name: 'k' });
    await keys.revoke(owner, key.id);
    await auth.revoke(token.id, 'tok-admin');
    const events = (await store.eventsSince(0, 10_000)).slice(before);
    assert.deepEqual(
      events.map((e) => [e.type, e.subject]),
      [
        ['token.issued', token.id],
        ['access-key.issued', key.id],
        ['access-key.revoked', key.id],
        ['token.revoked', token.id],
      ],
    );
    assert.equal(events[0]?.data.by, 'tok-admin');
    assert.equal(events[1]?.data.by, token.id);
  });
});

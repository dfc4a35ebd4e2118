/** Bootstrap admin token and roles, on a real SQLite store. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../../src/core/events.js';
import { AuthService, hashToken } from '../../src/core/services/auth.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/core/store-port.js';

let dir: string;
let store: Store;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'skygate-auth-'));
  store = await openStore({ dataDir: dir });
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('AuthService', () => {
  it('generates the first admin token into a 0600 file, once, and stores only its hash', async () => {
    const auth = new AuthService(store, new EventBus(store));
    const file = await auth.bootstrap(dir);
    assert.equal(file, path.join(dir, 'admin-token'));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const secret = (await readFile(file, 'utf8')).trim();
    assert.match(secret, /^sgt_/);
    assert.equal((await auth.authenticate(`Bearer ${secret}`)).role, 'admin');
    assert.equal(await auth.bootstrap(dir), undefined, 'a second start does not generate another');
    const tokens = await auth.list();
    assert.equal(tokens.length, 1);
    assert.ok(!JSON.stringify(tokens).includes(secret));
  });

  it('refuses a short SKYGATE_ADMIN_TOKEN and unknown tokens; enforces role rank; revocation is immediate', async () => {
    const auth = new AuthService(store, new EventBus(store));
    await assert.rejects(auth.bootstrap(dir, 'short'), { code: 'invalid_input' });
    await assert.rejects(auth.authenticate('Bearer nope'), { code: 'unauthorized' });
    await assert.rejects(auth.authenticate(undefined), { code: 'unauthorized' });
    const op = await auth.issue('ops', 'operator');
    const principal = await auth.authenticate(`Bearer ${op.token}`);
    auth.require(principal, 'viewer');
    auth.require(principal, 'operator');
    assert.throws(() => auth.require(principal, 'admin'), { code: 'forbidden' });
    await auth.revoke(op.id);
    await assert.rejects(auth.authenticate(`Bearer ${op.token}`), { code: 'unauthorized' });
    await assert.rejects(auth.revoke('tok-missing'), { code: 'not_found' });
  });

  it('hashes a token once per verification it keeps, not on every request', async () => {
    const hashed: string[] = [];
    let now = 1_000_000;
    const auth = new AuthService(store, new EventBus(store), {
      hash: (t) => {
        hashed.push(t);
        return hashToken(t);
      },
      cacheMs: 5_000,
      cacheEntries: 2,
      now: () => now,
    });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => auth.issue(`hash-${n}`, 'viewer')));
    assert.ok(a && b && c);
    hashed.length = 0; // issuing hashes each secret once to store it

    for (let i = 0; i < 100; i++) assert.equal((await auth.authenticate(`Bearer ${a.token}`)).tokenId, a.id);
    assert.deepEqual(hashed, [a.token], 'a hundred requests, one hash');

    now += 5_001; // the verification expires: the store is asked again, so a revocation elsewhere is seen
    await auth.authenticate(`Bearer ${a.token}`);
    assert.deepEqual(hashed, [a.token, a.token]);

    // The cache is bounded: a third token pushes out the oldest verification, which then costs a hash again.
    await auth.authenticate(`Bearer ${b.token}`);
    await auth.authenticate(`Bearer ${c.token}`);
    hashed.length = 0;
    await auth.authenticate(`Bearer ${c.token}`);
    await auth.authenticate(`Bearer ${b.token}`);
    assert.deepEqual(hashed, [], 'the two most recent are kept');
    await auth.authenticate(`Bearer ${a.token}`);
    assert.deepEqual(hashed, [a.token]);

    // Unknown tokens are never kept: each attempt is checked.
    await assert.rejects(auth.authenticate('Bearer not-a-token'), { code: 'unauthorized' });
    await assert.rejects(auth.authenticate('Bearer not-a-token'), { code: 'unauthorized' });
    assert.deepEqual(hashed, [a.token, 'not-a-token', 'not-a-token']);

    // Revocation still takes effect at once, cached or not.
    await auth.revoke(a.id);
    await assert.rejects(auth.authenticate(`Bearer ${a.token}`), { code: 'unauthorized' });
  });
});

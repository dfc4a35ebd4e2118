/** Where URL imports may fetch from: http(s), allowlisted hosts, never link-local or the gateway itself. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkygateError } from '../../src/core/errors.js';
import { UrlPolicy } from '../../src/portability/url-policy.js';

const GATEWAY_PORT = 8080;
const policy = new UrlPolicy(
  ['127.0.0.1', 'images.example.com', '*.mirror.example.org', '169.254.169.254', '[::1]', 'localhost'],
  () => GATEWAY_PORT,
);

async function refused(url: string, reason: RegExp, p = policy): Promise<void> {
  await assert.rejects(p.check(url, 'body.url'), (e: unknown) => {
    assert.ok(e instanceof SkygateError);
    assert.equal(e.code, 'invalid_input');
    assert.equal(e.field, 'body.url');
    assert.match(e.message, reason);
    return true;
  });
}

describe('UrlPolicy', () => {
  it('accepts http and https URLs of allowlisted hosts', async () => {
    assert.equal((await policy.check('http://127.0.0.1:9000/a.ova', 'body.url')).port, '9000');
    assert.equal(policy.checkUrl('https://images.example.com/x.ova', 'body.url').hostname, 'images.example.com');
    assert.equal(policy.checkUrl('https://eu.mirror.example.org/x.ova', 'body.url').hostname, 'eu.mirror.example.org');
  });

  it('refuses other schemes, file:// first of all', async () => {
    await refused('file:///etc/passwd', /scheme 'file' is not allowed/);
    await refused('ftp://images.example.com/a.ova', /scheme 'ftp'/);
    await refused('not a url', /is not a URL/);
  });

  it('refuses hosts off the allowlist, and everything when the allowlist is empty', async () => {
    await refused('http://evil.example.net/a.ova', /'evil\.example\.net' is not on the allowlist/);
    await refused('http://mirror.example.org/a.ova', /not on the allowlist/);
    await refused('http://127.0.0.1:9000/a.ova', /no host is on the allowlist/, new UrlPolicy([], () => GATEWAY_PORT));
  });

  it('refuses link-local addresses even when allowlisted (cloud metadata services live there)', async () => {
    await refused('http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a linkLocal address/);
    assert.throws(() => policy.checkAddress('::ffff:169.254.169.254', new URL('http://localhost/'), 'body.url'), /linkLocal/);
    assert.throws(() => policy.checkAddress('fe80::1', new URL('http://localhost/'), 'body.url'), /linkLocal/);
    assert.throws(() => policy.checkAddress('0.0.0.0', new URL('http://localhost/'), 'body.url'), /unspecified/);
  });

  it('refuses the gateway itself, by loopback name or address, but not another port on loopback', async () => {
    await refused(`http://127.0.0.1:${GATEWAY_PORT}/v1/images`, /is the gateway itself/);
    await refused(`http://localhost:${GATEWAY_PORT}/v1/images`, /is the gateway itself/);
    await refused(`http://[::1]:${GATEWAY_PORT}/`, /is the gateway itself/);
    await policy.check(`http://localhost:${GATEWAY_PORT + 1}/a.ova`, 'body.url');
  });

  it('refuses URLs carrying credentials', async () => {
    await refused('http://user:secret@images.example.com/a.ova', /must not carry credentials/);
  });
});

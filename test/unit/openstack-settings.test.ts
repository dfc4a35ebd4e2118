/**
 * The OpenStack adapter's settings: defaults, and every bad setting refused with the setting's name and
 * the reason, before anything talks to a cloud (the live behaviour is tested against a real OpenStack in
 * test/integration/openstack).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOpenStackSettings } from '../../adapters/openstack/index.js';
import { SkygateError } from '../../src/core/errors.js';

const BASE = { authUrl: 'http://127.0.0.1:5000/v3', username: 'demo', password: 'pw', projectName: 'skygate' };
const parse = (raw: Record<string, unknown>, warn: (o: object, m?: string) => void = () => {}) =>
  parseOpenStackSettings('os-east', raw, warn);

/** The field and message a bad setting is refused with. */
function refusal(raw: Record<string, unknown>): { field?: string; message: string } {
  try {
    parse(raw);
  } catch (e) {
    assert.ok(e instanceof SkygateError, String(e));
    assert.equal(e.code, 'invalid_input');
    return { field: e.field, message: e.message };
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
}

describe('openstack settings', () => {
  it('fills the defaults of a minimal password setting', () => {
    const s = parse(BASE);
    assert.equal(s.interface, 'public');
    assert.equal(s.network, 'none');
    assert.deepEqual(s.microversions, { compute: '2.45', volume: '3.60' });
    assert.equal(s.requestTimeoutMs, 60_000);
    assert.equal(s.tokenRenewBeforeMs, 300_000);
    assert.equal(s.terminatedRetentionMs, 3_600_000);
    assert.deepEqual(s.credentials, {
      kind: 'password',
      username: 'demo',
      password: 'pw',
      userDomain: { name: 'Default' },
      project: { name: 'skygate', domain: { name: 'Default' } },
    });
  });

  it('takes an application credential, and 0 to turn the terminated retention off', () => {
    const s = parse({
      authUrl: 'https://keystone.example.com/v3/',
      applicationCredentialId: 'id1',
      applicationCredentialSecret: 'sec',
      terminatedRetentionMs: 0,
    });
    assert.deepEqual(s.credentials, { kind: 'application_credential', id: 'id1', secret: 'sec' });
    assert.equal(s.authUrl, 'https://keystone.example.com/v3', 'trailing slashes dropped');
    assert.equal(s.terminatedRetentionMs, 0);
  });

  it('warns about unknown settings instead of failing', () => {
    const warned: unknown[] = [];
    parse({ ...BASE, colour: 'blue' }, (o) => warned.push(o));
    assert.deepEqual(warned, [{ provider: 'os-east', settings: ['colour'] }]);
  });

  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['no authUrl', { ...BASE, authUrl: undefined }, 'settings.authUrl', /required/],
    ['authUrl not a URL', { ...BASE, authUrl: 'keystone' }, 'settings.authUrl', /not a URL/],
    ['authUrl not http', { ...BASE, authUrl: 'ftp://x/v3' }, 'settings.authUrl', /http\(s\)/],
    ['no username', { ...BASE, username: undefined }, 'settings.username', /required/],
    ['no password', { ...BASE, password: undefined }, 'settings.password', /required with username/],
    ['no project', { ...BASE, projectName: undefined }, 'settings.projectName', /required/],
    [
      'app credential and username',
      { ...BASE, applicationCredentialId: 'a', applicationCredentialSecret: 'b' },
      'settings.username',
      /must not be set/,
    ],
    [
      'app credential without secret',
      { authUrl: BASE.authUrl, applicationCredentialId: 'a' },
      'settings.applicationCredentialSecret',
      /required/,
    ],
    ['bad interface', { ...BASE, interface: 'private' }, 'settings.interface', /public, internal or admin/],
    [
      'old compute microversion',
      { ...BASE, microversions: { compute: '2.1' } },
      'settings.microversions.compute',
      /2\.45 or later/,
    ],
    [
      'unknown microversion service',
      { ...BASE, microversions: { image: '2.9' } },
      'settings.microversions.image',
      /not a service/,
    ],
    [
      'unknown endpoint override',
      { ...BASE, endpointOverrides: { dns: 'http://x' } },
      'settings.endpointOverrides.dns',
      /not a service/,
    ],
    ['zero request timeout', { ...BASE, requestTimeoutMs: 0 }, 'settings.requestTimeoutMs', /above 0/],
    ['negative retention', { ...BASE, terminatedRetentionMs: -1 }, 'settings.terminatedRetentionMs', /0 or more/],
    ['retention as text', { ...BASE, terminatedRetentionMs: '1h' }, 'settings.terminatedRetentionMs', /0 or more/],
    ['empty network', { ...BASE, network: '' }, 'settings.network', /non-empty string/],
  ];
  for (const [name, raw, field, reason] of cases) {
    it(`refuses ${name}, naming ${field}`, () => {
      const r = refusal(raw);
      assert.equal(r.field, field);
      assert.match(r.message, reason);
      assert.match(r.message, /openstack provider 'os-east'/);
    });
  }
});

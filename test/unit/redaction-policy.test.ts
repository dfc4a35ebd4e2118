/** What a viewer reads of an operation: user data and secret-looking input redacted, operators see everything. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../../src/core/model.js';
import { REDACTED, operationFor, redactSecrets, redactUrl } from '../../src/core/redaction.js';

const op = (): Operation => ({
  id: 'op-1',
  kind: 'instance.create',
  status: 'failed',
  progress: 0,
  input: {
    provider: 'sim-east',
    name: 'web',
    userData: '#cloud-config\npassword: hunter2',
    tags: { app: 'web' },
    attributes: { userData: 'I2Nsb3VkLWNvbmZpZw==', disableApiTermination: false },
    nested: [{ 'X-Api-Key': 'k-123', secret_access_key: 's-456', count: 2 }],
    url: 'https://bucket.s3.amazonaws.com/pkg.ova?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc123&versionId=7',
  },
  steps: [{ name: 'fetch', status: 'failed', detail: 'fetching https://u:p4ss@host.example/pkg.ova?sig=zzz' }],
  state: {},
  error: { code: 'invalid_input', message: "'https://host.example/x.ova?token=t0k' is too large", retryable: false },
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  attempts: 1,
});

describe('redaction of operations', () => {
  it('a viewer sees no user data, secret-looking field or URL credential, anywhere in the operation', () => {
    const seen = operationFor(op(), 'viewer');
    const text = JSON.stringify(seen);
    for (const secret of ['hunter2', 'I2Nsb3Vk', 'k-123', 's-456', 'AKIA', 'abc123', 'p4ss', 'zzz', 't0k']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.equal(seen.input.userData, REDACTED);
    assert.equal((seen.input.attributes as Record<string, unknown>).userData, REDACTED);
  });

  it('keeps what is not secret, so the operation still says what it did', () => {
    const seen = operationFor(op(), 'viewer');
    assert.equal(seen.input.name, 'web');
    assert.deepEqual(seen.input.tags, { app: 'web' });
    assert.equal((seen.input.attributes as Record<string, unknown>).disableApiTermination, false);
    assert.equal((seen.input.nested as Array<Record<string, unknown>>)[0]?.count, 2);
    assert.match(String(seen.input.url), /^https:\/\/bucket\.s3\.amazonaws\.com\/pkg\.ova\?.*versionId=7/);
    assert.equal(seen.steps[0]?.name, 'fetch');
  });

  it('operators and admins see the input as given', () => {
    for (const role of ['operator', 'admin'] as const) assert.deepEqual(operationFor(op(), role), op());
  });

  it('leaves the operation it was given unchanged', () => {
    const original = op();
    operationFor(original, 'viewer');
    assert.deepEqual(original, op());
  });

  it('redacts URL passwords and credential query values only', () => {
    assert.equal(redactUrl('https://a.example/x?page=2'), 'https://a.example/x?page=2');
    assert.equal(redactUrl('not a url'), 'not a url');
    assert.equal(redactUrl('https://user:pw@a.example/x'), 'https://user:redacted@a.example/x');
    assert.deepEqual(redactSecrets({ Authorization: 'Bearer x', list: ['ok'] }), { Authorization: REDACTED, list: ['ok'] });
  });
});

/** Page cursors are bound to the collection and filters that issued them, and refused with a readable reason otherwise. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCursor, encodeCursor } from '../../src/core/cursor.js';
import { SkygateError } from '../../src/core/errors.js';

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SkygateError, String(e));
    assert.equal(e.field, 'query.cursor');
    // Readable: printable ASCII only, whatever bytes the cursor held.
    assert.match(e.message, /^[\x20-\x7e]+$/);
    return e.message;
  }
  assert.fail('the cursor was accepted');
};

describe('page cursors', () => {
  const filters = { providers: ['sim-east', 'sim-west'], state: 'running', tags: [{ key: 'app', value: 'web' }] };
  const cursor = encodeCursor('instances', filters, 'sim-east:i-42');

  it('continue the listing that issued them', () => {
    assert.equal(decodeCursor(cursor, 'instances', filters), 'sim-east:i-42');
  });

  it('do not depend on the order of keys or of list items', () => {
    const same = { tags: [{ value: 'web', key: 'app' }], state: 'running', providers: ['sim-west', 'sim-east'], name: undefined };
    assert.equal(decodeCursor(cursor, 'instances', same), 'sim-east:i-42');
  });

  it('are refused by another collection, saying which issued them', () => {
    assert.match(
      refusal(() => decodeCursor(cursor, 'images', filters)),
      /was issued for 'instances', not for 'images'/,
    );
  });

  it('are refused with other filters', () => {
    assert.match(
      refusal(() => decodeCursor(cursor, 'instances', { ...filters, state: 'stopped' })),
      /issued for this collection with other filters/,
    );
  });

  it('are refused when altered: another position under the same digest', () => {
    const payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, string>;
    const forged = Buffer.from(JSON.stringify({ ...payload, a: 'sim-east:i-99' })).toString('base64url');
    assert.match(
      refusal(() => decodeCursor(forged, 'instances', filters)),
      /other filters \(or was altered\)/,
    );
  });

  it('garbage, bytes that are not base64url, and JSON of another shape are refused without echoing them', () => {
    const old = Buffer.from(JSON.stringify({ after: 'sim-east:i-1' })).toString('base64url');
    for (const bad of ['garbage', '%%%', 'gA', '\u001b[31m', Buffer.from('{"c":1}').toString('base64url'), old]) {
      const reason = refusal(() => decodeCursor(bad, 'operations', {}));
      assert.match(reason, /is not a cursor this API issued; pass nextCursor back unchanged/);
      assert.ok(!reason.includes(bad), reason);
    }
  });
});

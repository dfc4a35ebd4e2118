/** The one name policy: which characters a name may hold, the same in the core and in the spec's ResourceName. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openApiDocument, validateRequest } from '../../src/api/rest/openapi-validator.js';
import { SkygateError } from '../../src/core/errors.js';
import { NAME_PATTERN, checkKeyPairName, checkName } from '../../src/core/name-policy.js';

const ALLOWED = [
  'web-1',
  'a',
  'données de prod',
  '漢字のサーバー',
  'rocket 🚀 (v2)',
  'it\'s "quoted" & <angled>',
  'x'.repeat(255),
  // 255 characters, 510 UTF-16 units: length counts characters, as JSON Schema does.
  '🚀'.repeat(255),
];

const REFUSED: Array<[string, string, RegExp]> = [
  ['NUL', 'a\u0000b', /U\+0000 \(a control character\)/],
  ['ESC', 'red\u001b[31m', /U\+001B \(a control character\)/],
  ['CR', 'a\rb', /U\+000D/],
  ['LF', 'a\nb', /U\+000A/],
  ['TAB', 'a\tb', /U\+0009/],
  ['DEL', 'a\u007fb', /U\+007F/],
  ['C1 NEL', 'a\u0085b', /U\+0085 \(a control character\)/],
  ['line separator', 'a\u2028b', /U\+2028 \(a line or paragraph separator\)/],
  ['right-to-left override', 'invoice\u202Etxt.exe', /U\+202E \(a bidirectional control\)/],
  ['isolate', 'a\u2066b', /U\+2066 \(a bidirectional control\)/],
  ['lone high surrogate', 'a\ud800b', /U\+D800 \(a lone surrogate\)/],
  ['lone low surrogate', 'a\udc00', /U\+DC00 \(a lone surrogate\)/],
  ['noncharacter', 'a\uffffb', /U\+FFFF \(a noncharacter\)/],
  ['empty', '', /must be 1 to 255 characters \(0 given\)/],
  ['too long', 'x'.repeat(256), /must be 1 to 255 characters \(256 given\)/],
];

function refusal(fn: () => unknown): SkygateError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SkygateError, String(e));
    return e;
  }
  assert.fail('was accepted');
}

describe('name policy', () => {
  for (const name of ALLOWED) {
    it(`accepts ${JSON.stringify(name.slice(0, 40))}`, () => {
      assert.equal(checkName(name, 'body.name'), name);
    });
  }

  for (const [label, name, reason] of REFUSED) {
    it(`refuses a name with ${label}, naming the field and the character`, () => {
      const err = refusal(() => checkName(name, 'body.name'));
      assert.equal(err.code, 'invalid_input');
      assert.equal(err.field, 'body.name');
      assert.match(err.message, reason);
    });
  }

  it('tokens and access keys take at most 128 characters', () => {
    assert.equal(checkName('x'.repeat(128), 'body.name', 128), 'x'.repeat(128));
    assert.match(refusal(() => checkName('x'.repeat(129), 'body.name', 128)).message, /1 to 128 characters/);
  });

  it('key pair names are printable ASCII, as on EC2', () => {
    assert.equal(checkKeyPairName('ops laptop (2024)', 'keyName'), 'ops laptop (2024)');
    for (const bad of ['', 'clé', 'a\u001bb', 'x'.repeat(256)]) {
      assert.equal(refusal(() => checkKeyPairName(bad, 'keyName')).field, 'keyName', JSON.stringify(bad));
    }
  });
});

describe("the spec's ResourceName is the same policy", () => {
  it('its pattern is the core pattern, character for character', () => {
    const schemas = (openApiDocument().components as Record<string, Record<string, { pattern?: string }>>).schemas;
    assert.equal(schemas?.ResourceName?.pattern, NAME_PATTERN);
  });

  // A create body that is valid except for its name: the validator must agree with the core on every sample.
  const body = (name: string) => ({ provider: 'sim-east', name, sizeGiB: 1 });
  const specAccepts = (name: string) => {
    try {
      validateRequest({ method: 'POST', path: '/v1/volumes', headers: { 'content-type': 'application/json' }, body: body(name) });
      return true;
    } catch (e) {
      assert.ok(e instanceof SkygateError);
      assert.equal(e.field, 'body.name', e.message);
      return false;
    }
  };
  for (const name of [...ALLOWED, ...REFUSED.map(([, n]) => n)]) {
    it(`agrees on ${JSON.stringify(name.slice(0, 24))}`, () => {
      let core = true;
      try {
        checkName(name, 'body.name');
      } catch {
        core = false;
      }
      assert.equal(specAccepts(name), core);
    });
  }
});

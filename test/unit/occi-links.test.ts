/**
 * Inline links in OCCI requests: GFD.229 `Link:` lines (body and text/occi headers) and GFD.225 `links`, read into
 * one shape, and a compute create's networkinterface link read as the network it goes on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { networkOfLinks } from '../../src/api/occi/create-links.js';
import { parseJson, parseTextBody, parseTextHeaders } from '../../src/api/occi/parse.js';

const INFRA = 'http://schemas.ogf.org/occi/infrastructure#';
const IP_INTERFACE = 'http://schemas.ogf.org/occi/infrastructure/networkinterface#ipnetworkinterface';
const sample = (name: string) => readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'occi', 'examples', name), 'utf8');

describe('OCCI request links', () => {
  it("reads rOCCI's sample Link lines: kind and mixins from category, attributes typed, action links left out", () => {
    const req = parseTextBody(sample('instance.txt'));
    assert.equal(req.links.length, 2, 'the three action links name no link');
    const [storage, nic] = req.links;
    assert.equal(storage?.kind, `${INFRA}storagelink`);
    assert.equal(storage?.target, '/storage/5401');
    assert.equal(nic?.kind, `${INFRA}networkinterface`);
    assert.deepEqual(nic?.mixins, [IP_INTERFACE]);
    assert.equal(nic?.target, '/network/24');
    assert.equal(nic?.attributes['occi.networkinterface.address'], '172.16.0.1');
    assert.equal(nic?.where, 'Link 2');
  });

  it('reads the JSON sample and text/occi Link headers into the same shape', () => {
    const json = parseJson(sample('instance.json'));
    const text = parseTextBody(sample('instance.txt'));
    assert.deepEqual(
      json.links.map((l) => [l.kind, l.target, l.mixins]),
      text.links.map((l) => [l.kind, l.target, l.mixins]),
    );
    const headers = parseTextHeaders({
      link: `</network/sim-east:net-1>;rel="${INFRA}network";category="${INFRA}networkinterface", </compute/x?action=stop>;rel="${INFRA.replace('#', '/compute/action#')}stop"`,
    });
    assert.deepEqual(
      headers.links.map((l) => [l.target, l.kind, l.where]),
      [['/network/sim-east:net-1', `${INFRA}networkinterface`, 'Link 1']],
    );
  });

  it('refuses malformed links naming the line or field', () => {
    const text: Array<[string, RegExp]> = [
      ['Link: /network/x;rel="a#b"', /Link 1 .*expected <target> first/],
      ['Link: </network/x>', /Link 1 .*rel is required/],
      ['Link: </network/x>;rel="a#b";category="not an id"', /Link 1 category: 'not' is not a category identifier/],
      ['Link: </network/x>;rel="a#b";x=1;x=2', /Link 1 attribute x: given twice/],
      ['Link: </network/x>;rel="a#b";x=unquoted', /X-OCCI-Attribute x: 'unquoted' is neither/],
    ];
    for (const [line, message] of text) assert.throws(() => parseTextBody(line), message, line);
    const json: Array<[unknown, RegExp]> = [
      [{ links: {} }, /links: must be an array/],
      [{ links: ['x'] }, /links\[0\]: must be an object/],
      [{ links: [{ kind: `${INFRA}networkinterface` }] }, /links\[0\]\.target: the location of the link's target is required/],
      [{ links: [{ target: { location: '/network/x' }, kind: 'nohash' }] }, /links\[0\]\.kind: 'nohash' is not a category/],
      [{ links: [{ target: '/network/x', attributes: { a: {} } }] }, /links\[0\]\.attributes\.a: skygate takes strings/],
    ];
    for (const [doc, message] of json) assert.throws(() => parseJson(JSON.stringify(doc)), message, JSON.stringify(doc));
  });

  it('reads the network a create names, absolute or relative, and nothing without links', () => {
    const link = (target: string, extra = {}) => ({ target, mixins: [], attributes: {}, where: 'links[0]', ...extra });
    assert.equal(networkOfLinks([]), undefined);
    assert.equal(networkOfLinks([link('/network/sim-east:net-1')]), 'sim-east:net-1');
    assert.equal(
      networkOfLinks([link('https://gw.example/network/sim-east:net-1', { kind: `${INFRA}networkinterface` })]),
      'sim-east:net-1',
    );
    assert.equal(
      networkOfLinks([link('/network/a:n', { attributes: { 'occi.core.target': 'https://gw.example/network/a:n' } })]),
      'a:n',
    );
    assert.throws(
      () => networkOfLinks([link('/network/a:n', { attributes: { 'occi.core.target': '/network/a:m' } })]),
      /occi.core.target \(\/network\/a:m\) is not the link's target/,
    );
    assert.throws(
      () => networkOfLinks([link('/network/a:n', { attributes: { 'occi.networkinterface.mac': '02:00:00:00:00:01' } })]),
      /attribute occi.networkinterface.mac: not defined/,
    );
  });
});

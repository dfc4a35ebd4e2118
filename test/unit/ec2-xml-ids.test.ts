/** EC2's XML rendering and the EC2 id map (deterministic, persisted, kind-checked), on a real SQLite store. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { IdMap, derivedId, isEc2Id } from '../../src/api/ec2/id-map.js';
import { escapeXml, renderError, renderResponse } from '../../src/api/ec2/xml-render.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/core/store-port.js';

describe('xml-render', () => {
  it('renders members, lists of items, booleans and numbers, leaving absent members out', () => {
    const xml = renderResponse('DescribeThings', 'req-1', {
      thingSet: [{ thingId: 't-1', count: 2, enabled: false, missing: undefined, tagSet: [] }],
      nextToken: undefined,
    })
      .map(String)
      .join('');
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeThingsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
        '<requestId>req-1</requestId><thingSet><item><thingId>t-1</thingId><count>2</count><enabled>false</enabled><tagSet/></item></thingSet>' +
        '</DescribeThingsResponse>',
    );
  });

  it('escapes markup and drops characters XML cannot carry, so any tag value parses back', () => {
    const nasty = `<a href="x">&'\u0001\u0007ok\u00e9`;
    assert.equal(escapeXml(nasty), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;\ufffd\ufffdok\u00e9');
    const parsed = new XMLParser().parse(Buffer.concat(renderResponse('X', 'r', { value: nasty })).toString()) as {
      XResponse: { value: string };
    };
    assert.equal(parsed.XResponse.value, '<a href="x">&\'\ufffd\ufffdok\u00e9');
    assert.match(renderError('A&B', 'm<', 'r'), /<Code>A&amp;B<\/Code><Message>m&lt;<\/Message>/);
  });
});

describe('IdMap', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skygate-ids-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('derives the same EC2-shaped id for the same resource, in any process, and another for another kind', () => {
    const a = new IdMap(store).peek('instance', 'sim-east:i-1');
    assert.match(a, /^i-[0-9a-f]{17}$/);
    assert.equal(new IdMap(store).peek('instance', 'sim-east:i-1'), a);
    assert.notEqual(new IdMap(store).peek('instance', 'sim-west:i-1'), a);
    assert.match(new IdMap(store).peek('image', 'sim-east:i-1'), /^ami-[0-9a-f]{17}$/);
    assert.match(derivedId('r', 'launch'), /^r-[0-9a-f]{17}$/);
  });

  it('resolves only what it recorded, of the kind asked, across a restart', async () => {
    const ids = new IdMap(store);
    const vm = ids.toEc2('instance', 'sim-east:i-1');
    const vol = ids.toEc2('volume', 'sim-east:vol-1');
    const peeked = ids.peek('snapshot', 'sim-east:snap-1');
    await ids.flush();
    const restarted = new IdMap(store);
    assert.deepEqual(
      [...(await restarted.resolve('instance', [vm, vol, peeked, 'i-0123456789abcdef0']))],
      [[vm, 'sim-east:i-1']],
    );
    assert.deepEqual([...(await restarted.resolve('volume', [vol]))], [[vol, 'sim-east:vol-1']]);
    assert.equal((await restarted.resolve('snapshot', [peeked])).size, 0, 'a peeked id was never shown, so it stays unknown');
  });

  it('knows the shapes EC2 accepts', () => {
    assert.ok(isEc2Id('instance', 'i-0123456789abcdef0'));
    assert.ok(isEc2Id('instance', 'i-01234567'));
    assert.ok(!isEc2Id('instance', 'i-0123456789ABCDEF0'));
    assert.ok(!isEc2Id('instance', 'i-012345678'));
    assert.ok(!isEc2Id('image', 'i-0123456789abcdef0'));
    assert.ok(isEc2Id('security-group', 'sg-0123456789abcdef0'));
  });
});

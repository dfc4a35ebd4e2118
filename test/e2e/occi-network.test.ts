/**
 * OCCI networks beside the default ones, against a real gateway (two sims): create in the JSON and text
 * renderings, list beside the defaults, GET, DELETE, and the refusals (bad input, the default network, a
 * provider without the networks capability). JSON answers are checked against the OCCI schema and text answers
 * read by the independent GFD.229 parser.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { INFRA, occiClient, SKYGATE } from '../helpers/occi-client.js';
import { occiJson as json } from '../helpers/occi-schema.js';
import { parseTextOcci, parseTextPlain } from '../helpers/occi-text-grammar.js';

let gw: TestGateway;
let call: ReturnType<typeof occiClient>;
before(async () => {
  gw = await startTestGateway();
  call = occiClient(gw);
});
after(async () => {
  await gw.close();
});

const IP_NETWORK = 'http://schemas.ogf.org/occi/infrastructure/network#ipnetwork';
const networkKind = `Category: network;scheme="${INFRA}";class="kind"`;
const providerMixin = (p: string) => `Category: ${p};scheme="${SKYGATE}provider#";class="mixin"`;

async function listedIds(): Promise<string[]> {
  const res = await call('GET', '/network/', { accept: 'application/occi+json' });
  assert.equal(res.status, 200, res.text);
  return ((json('entity-collection', res.text).resources ?? []) as Array<{ id: string }>).map((r) => r.id);
}

describe('OCCI network create and delete', () => {
  it('creates a network in the JSON rendering, lists it beside the defaults, shows it and deletes it', async () => {
    const created = await call('POST', '/network/', {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({
        kind: `${INFRA}network`,
        mixins: [`${SKYGATE}provider#sim-east`],
        attributes: {
          'occi.core.title': 'backend',
          'occi.network.address': '10.20.0.0/24',
          'occi.network.gateway': '10.20.0.254',
        },
      }),
    });
    assert.equal(created.status, 201, created.text);
    const doc = json('resource', created.text);
    const id = String(doc.id);
    assert.match(id, /^sim-east:net-[0-9a-f]{17}$/);
    assert.equal(created.headers.get('location'), `${gw.url}/network/${id}`);
    assert.deepEqual(doc.mixins, [`${SKYGATE}provider#sim-east`, IP_NETWORK], 'every network carries GFD.224 ipnetwork');
    const attrs = doc.attributes as Record<string, unknown>;
    assert.equal(attrs['occi.core.title'], 'backend');
    assert.equal(attrs['occi.network.address'], '10.20.0.0/24');
    assert.equal(attrs['occi.network.gateway'], '10.20.0.254');
    assert.equal(attrs['occi.network.state'], 'active');
    assert.equal(attrs['occi.network.allocation'], 'dynamic');

    assert.deepEqual(await listedIds(), ['sim-east:default-network', 'sim-west:default-network', id]);
    const uris = await call('GET', '/network/', { accept: 'text/uri-list' });
    assert.ok(uris.text.split('\r\n').includes(`${gw.url}/network/${id}`), uris.text);
    const onlyWest = await call('GET', `/network/?category=${encodeURIComponent(`${SKYGATE}provider#sim-west`)}`, {
      accept: 'text/uri-list',
    });
    assert.equal(onlyWest.text.trim(), `${gw.url}/network/sim-west:default-network`);

    const shown = await call('GET', `/network/${id}`, { accept: 'application/occi+json' });
    assert.deepEqual(json('resource', shown.text).attributes, attrs);

    assert.equal((await call('DELETE', `/network/${id}`)).status, 200);
    assert.equal((await call('GET', `/network/${id}`)).status, 404);
    assert.equal((await call('DELETE', `/network/${id}`)).status, 404);
    assert.deepEqual(await listedIds(), ['sim-east:default-network', 'sim-west:default-network']);
  });

  it('creates a network in the text rendering, the gateway defaulting to the first host, read back as text/plain and text/occi', async () => {
    const created = await call('POST', '/network/', {
      contentType: 'text/plain',
      accept: 'text/plain',
      body: [
        networkKind,
        providerMixin('sim-west'),
        'X-OCCI-Attribute: occi.core.title="dmz"',
        'X-OCCI-Attribute: occi.network.address="192.168.8.0/28"',
      ].join('\n'),
    });
    assert.equal(created.status, 201, created.text);
    const path = new URL(created.headers.get('location') ?? '').pathname;
    assert.match(path, /^\/network\/sim-west:net-[0-9a-f]{17}$/);
    const rendered = parseTextPlain(created.text);
    assert.equal(rendered.attributes['occi.network.gateway'], '192.168.8.1');
    const plain = parseTextPlain((await call('GET', path, { accept: 'text/plain' })).text);
    const occi = parseTextOcci((await call('GET', path, { accept: 'text/occi' })).headers);
    assert.deepEqual(occi, plain);
    assert.equal(plain.attributes['occi.core.title'], 'dmz');
    assert.equal(plain.attributes['occi.network.address'], '192.168.8.0/28');
    assert.equal((await call('DELETE', path, { contentType: 'text/plain' })).status, 200);
  });

  it('refuses bad input with the GFD.223 status and a readable message, and creates nothing', async () => {
    const create = (lines: string[]) => call('POST', '/network/', { contentType: 'text/plain', body: lines.join('\n') });
    const cases: Array<[string[], number, RegExp]> = [
      [[networkKind, providerMixin('sim-east')], 400, /attribute occi.network.address: is required/],
      [[networkKind, 'X-OCCI-Attribute: occi.network.address="10.1.0.0/24"'], 400, /a network needs one/],
      [[networkKind, providerMixin('sim-east'), 'X-OCCI-Attribute: occi.network.address="10.1.0.0/8"'], 400, /\/16 to \/28/],
      [[networkKind, providerMixin('sim-east'), 'X-OCCI-Attribute: occi.network.address="10.1.0.9/24"'], 400, /network address/],
      [[networkKind, providerMixin('sim-east'), 'X-OCCI-Attribute: occi.network.address="fd00::/64"'], 400, /IPv4 block/],
      [
        [
          networkKind,
          providerMixin('sim-east'),
          'X-OCCI-Attribute: occi.network.address="10.1.0.0/24"',
          'X-OCCI-Attribute: occi.network.gateway="10.2.0.1"',
        ],
        400,
        /gateway: must be a host address inside 10.1.0.0\/24/,
      ],
      [[networkKind, providerMixin('sim-east'), 'X-OCCI-Attribute: occi.network.address=24'], 400, /must be a string/],
      [
        [
          networkKind,
          providerMixin('sim-east'),
          'X-OCCI-Attribute: occi.network.address="10.1.0.0/24"',
          'X-OCCI-Attribute: skygate.zone="sim-east-a"',
        ],
        400,
        /attribute skygate.zone: not defined/,
      ],
      [[`Category: storage;scheme="${INFRA}";class="kind"`, providerMixin('sim-east')], 400, /is not .*network/],
    ];
    for (const [lines, status, message] of cases) {
      const res = await create(lines);
      assert.equal(res.status, status, `${lines.join(' | ')}: ${res.text}`);
      assert.match(res.text, message);
    }
    assert.equal((await call('POST', '/network/', { contentType: 'text/plain', body: networkKind, token: null })).status, 401);
    assert.deepEqual(await listedIds(), ['sim-east:default-network', 'sim-west:default-network'], 'nothing was created');
  });

  it('keeps the default network, saying why', async () => {
    const res = await call('DELETE', '/network/sim-east:default-network');
    assert.equal(res.status, 400);
    assert.match(
      res.text,
      /is the default network of sim-east, the network of every instance there that names no other; it cannot be deleted/,
    );
    assert.equal((await call('DELETE', '/network/sim-north:default-network')).status, 404);
    assert.deepEqual(await listedIds(), ['sim-east:default-network', 'sim-west:default-network']);
  });

  it('answers 501 naming the provider and its reason where the adapter cannot create networks (OpenStack, catalog unknown)', async () => {
    // Every adapter can create networks now; an OpenStack whose Keystone never answered claims nothing, and says why.
    const os = await startTestGateway({
      providers: [
        {
          id: 'os-down',
          type: 'openstack',
          settings: { authUrl: 'http://127.0.0.1:9/v3', username: 'u', password: 'p', projectName: 'p' },
        },
      ],
    });
    try {
      const res = await occiClient(os)('POST', '/network/', {
        contentType: 'text/plain',
        body: [networkKind, providerMixin('os-down'), 'X-OCCI-Attribute: occi.network.address="10.1.0.0/24"'].join('\n'),
      });
      assert.equal(res.status, 501, res.text);
      assert.match(
        res.text,
        /provider 'os-down' cannot create or delete networks: no authentication at Keystone has succeeded yet/,
      );
    } finally {
      await os.close();
    }
  });
});

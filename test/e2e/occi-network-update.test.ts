/**
 * OCCI networks changed in place (GFD.223 PUT and partial update), GFD.224's ipnetwork and ipnetworkinterface
 * mixins, and computes created on a network, against a real gateway (two sims). Every JSON answer is checked
 * against the OCCI schema, text answers are read by the independent GFD.229 parser, and every refusal is followed
 * by a re-read showing nothing changed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { computeCreateText, holdings, INFRA, occiClient, SKYGATE, waitComputeState } from '../helpers/occi-client.js';
import { occiJson as json } from '../helpers/occi-schema.js';
import { parseTextPlain } from '../helpers/occi-text-grammar.js';

const IP_NETWORK = 'http://schemas.ogf.org/occi/infrastructure/network#ipnetwork';
const IP_INTERFACE = 'http://schemas.ogf.org/occi/infrastructure/networkinterface#ipnetworkinterface';
const TAG = `${SKYGATE}tag#`;
const PROVIDER = `${SKYGATE}provider#`;
const JSON_TYPE = 'application/occi+json';
const sample = (name: string) => readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'occi', 'examples', name), 'utf8');

let gw: TestGateway;
let call: ReturnType<typeof occiClient>;
before(async () => {
  gw = await startTestGateway();
  call = occiClient(gw);
});
after(async () => {
  await gw.close();
});

async function read(location: string): Promise<Record<string, unknown>> {
  const res = await call('GET', location, { accept: JSON_TYPE });
  assert.equal(res.status, 200, res.text);
  return json('resource', res.text);
}

async function createNetwork(
  body: Record<string, unknown>,
): Promise<{ id: string; location: string; doc: Record<string, unknown> }> {
  const res = await call('POST', '/network/', { contentType: JSON_TYPE, accept: JSON_TYPE, body: JSON.stringify(body) });
  assert.equal(res.status, 201, res.text);
  const doc = json('resource', res.text);
  return { id: String(doc.id), location: `/network/${String(doc.id)}`, doc };
}

const jsonUpdate = (method: 'PUT' | 'POST', location: string, body: Record<string, unknown>) =>
  call(method, location, { contentType: JSON_TYPE, accept: JSON_TYPE, body: JSON.stringify(body) });

async function listed(query: string): Promise<string[]> {
  const res = await call('GET', `/network/${query}`, { accept: JSON_TYPE });
  assert.equal(res.status, 200, res.text);
  return ((json('entity-collection', res.text).resources ?? []) as Array<{ id: string }>).map((r) => r.id);
}

describe('OCCI network updates in place', () => {
  it('renames, adds user mixins and a summary (POST), names the whole set (PUT), and is listed by its user mixins', async () => {
    const { id, location } = await createNetwork({
      kind: `${INFRA}network`,
      mixins: [`${PROVIDER}sim-east`, `${TAG}team`],
      attributes: { 'occi.core.title': 'backend', 'occi.network.address': '10.30.0.0/24' },
    });
    const posted = await jsonUpdate('POST', location, {
      mixins: [`${TAG}tier`],
      attributes: { 'occi.core.title': 'backend-2', 'occi.core.summary': 'the database tier' },
    });
    assert.equal(posted.status, 200, posted.text);
    const after = json('resource', posted.text);
    assert.equal(after.title, 'backend-2');
    assert.equal(after.summary, 'the database tier');
    assert.deepEqual(after.mixins, [`${PROVIDER}sim-east`, IP_NETWORK, `${TAG}team`, `${TAG}tier`], 'POST adds');
    assert.deepEqual(await read(location), after, 'read back as answered');
    assert.deepEqual(await listed(`?category=${encodeURIComponent(`${TAG}tier`)}`), [id]);
    assert.deepEqual(await listed(`?category=${encodeURIComponent(IP_NETWORK)}`), [
      'sim-east:default-network',
      'sim-west:default-network',
      id,
    ]);

    // PUT names the whole entity: the tier mixin and the summary it leaves out go, the provider and the block stay.
    const put = await call('PUT', location, {
      contentType: 'text/plain',
      accept: 'text/plain',
      body: [
        `Category: network;scheme="${INFRA}";class="kind"`,
        `Category: team;scheme="${TAG}";class="mixin"`,
        `Category: owner;scheme="${TAG}";class="mixin"`,
        'X-OCCI-Attribute: occi.core.title="backend-3"',
        'X-OCCI-Attribute: occi.network.address="10.30.0.0/24"',
      ].join('\n'),
    });
    assert.equal(put.status, 200, put.text);
    const text = parseTextPlain(put.text);
    assert.equal(text.attributes['occi.core.title'], 'backend-3');
    assert.equal(text.attributes['occi.core.summary'], undefined);
    const now = await read(location);
    assert.deepEqual(now.mixins, [`${PROVIDER}sim-east`, IP_NETWORK, `${TAG}team`, `${TAG}owner`]);
    assert.deepEqual(await listed(`?category=${encodeURIComponent(`${TAG}tier`)}`), []);
    assert.deepEqual(await listed(`?category=${encodeURIComponent(`${TAG}owner`)}`), [id]);

    // A PUT of the entity as read changes nothing and is fine; so is repeating each immutable at its value.
    const same = await jsonUpdate('PUT', location, now);
    assert.equal(same.status, 200, same.text);
    assert.deepEqual(json('resource', same.text), now);
    assert.equal((await call('DELETE', location)).status, 200);
  });

  it('refuses immutables at another value, other providers and unknown mixins, naming them, and changes nothing', async () => {
    const { location } = await createNetwork({
      kind: `${INFRA}network`,
      mixins: [`${PROVIDER}sim-west`, IP_NETWORK],
      attributes: { 'occi.core.title': 'fixed', 'occi.network.address': '10.31.0.0/24', 'occi.network.gateway': '10.31.0.9' },
    });
    const before = await read(location);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { attributes: { 'occi.network.address': '10.32.0.0/24' } },
        /attribute occi.network.address: is immutable \(it is "10.31.0.0\/24"\)/,
      ],
      [
        { attributes: { 'occi.network.gateway': '10.31.0.1' } },
        /attribute occi.network.gateway: is immutable \(it is "10.31.0.9"\)/,
      ],
      [{ attributes: { 'occi.network.state': 'inactive' } }, /attribute occi.network.state: is immutable/],
      [
        { attributes: { 'occi.network.allocation': 'static' } },
        /attribute occi.network.allocation: is immutable \(it is "dynamic"\)/,
      ],
      [{ attributes: { 'occi.network.vlan': 4 } }, /attribute occi.network.vlan: not defined/],
      [{ attributes: { 'occi.core.title': 'ok', 'occi.network.address': '10.32.0.0/24' } }, /occi.network.address: is immutable/],
      [{ attributes: { 'occi.core.title': 'bad\u0007name' } }, /attribute occi.core.title/],
      [{ mixins: [`${PROVIDER}sim-east`] }, /the provider of a network is immutable \(it is .*provider#sim-west\)/],
      [{ mixins: [`${SKYGATE}sim-west/os_tpl#img-cirros-0-6`] }, /only user mixins .* can be added to a network/],
      [{ kind: `${INFRA}compute` }, /is not .*#network/],
      [{ attributes: { 'occi.core.summary': 'x'.repeat(300) } }, /attribute occi.core.summary/],
    ];
    for (const [body, message] of cases) {
      for (const method of ['POST', 'PUT'] as const) {
        const res = await jsonUpdate(method, location, body);
        assert.equal(res.status, 400, `${method} ${JSON.stringify(body)}: ${res.text}`);
        assert.match(res.text, message);
      }
    }
    assert.deepEqual(await read(location), before, 'nothing changed');
    assert.equal((await jsonUpdate('POST', '/network/sim-west:net-00000000000000000', { attributes: {} })).status, 404);
    const viewer = await call('POST', location, {
      contentType: JSON_TYPE,
      body: JSON.stringify({ attributes: { 'occi.core.title': 'x' } }),
      token: null,
    });
    assert.equal(viewer.status, 401);
    assert.deepEqual(await read(location), before, 'nothing changed');
    assert.equal((await call('DELETE', location)).status, 200);
  });

  it('takes a PUT of the default network as read, and refuses changing it (400, skygate synthesizes it)', async () => {
    const location = '/network/sim-east:default-network';
    const before = await read(location);
    const same = await jsonUpdate('PUT', location, before);
    assert.equal(same.status, 200, same.text);
    assert.deepEqual(json('resource', same.text), before);
    for (const body of [{ attributes: { 'occi.core.title': 'renamed' } }, { mixins: [`${TAG}team`] }]) {
      const res = await jsonUpdate('POST', location, body);
      assert.equal(res.status, 400, res.text);
      assert.match(
        res.text,
        /'sim-east:default-network' is the default network of sim-east, synthesized by skygate, not held by the provider; it cannot be changed/,
      );
    }
    assert.deepEqual(await read(location), before, 'nothing changed');
  });
});

describe('OCCI ipnetwork and ipnetworkinterface mixins (GFD.224)', () => {
  it('are in the query interface with their attributes', async () => {
    const res = await call('GET', '/-/', { accept: JSON_TYPE });
    const model = json('model', res.text) as {
      mixins: Array<{ scheme: string; term: string; attributes?: object; applies?: string[] }>;
    };
    const byId = new Map(model.mixins.map((m) => [`${m.scheme}${m.term}`, m]));
    assert.deepEqual(Object.keys(byId.get(IP_NETWORK)?.attributes ?? {}).sort(), [
      'occi.network.address',
      'occi.network.allocation',
      'occi.network.gateway',
    ]);
    assert.deepEqual(byId.get(IP_NETWORK)?.applies, [`${INFRA}network`]);
    assert.deepEqual(Object.keys(byId.get(IP_INTERFACE)?.attributes ?? {}).sort(), [
      'occi.networkinterface.address',
      'occi.networkinterface.allocation',
      'occi.networkinterface.gateway',
    ]);
  });

  it('creates a network naming the ipnetwork mixin and its attributes, as rOCCI sends it, in JSON and text', async () => {
    const { location, doc } = await createNetwork({
      kind: `${INFRA}network`,
      mixins: [`${PROVIDER}sim-east`, IP_NETWORK],
      attributes: {
        'occi.core.title': 'ip',
        'occi.network.address': '10.40.0.0/24',
        'occi.network.gateway': '10.40.0.1',
        'occi.network.allocation': 'dynamic',
      },
    });
    assert.deepEqual(doc.mixins, [`${PROVIDER}sim-east`, IP_NETWORK]);
    assert.equal((doc.attributes as Record<string, unknown>)['occi.network.allocation'], 'dynamic');
    assert.equal((await call('DELETE', location)).status, 200);

    const text = await call('POST', '/network/', {
      contentType: 'text/plain',
      accept: 'text/plain',
      body: [
        `Category: network;scheme="${INFRA}";class="kind"`,
        'Category: ipnetwork;scheme="http://schemas.ogf.org/occi/infrastructure/network#";class="mixin"',
        `Category: sim-west;scheme="${PROVIDER}";class="mixin"`,
        `Category: lab;scheme="${TAG}";class="mixin"`,
        'X-OCCI-Attribute: occi.network.address="10.41.0.0/28"',
        'X-OCCI-Attribute: occi.network.allocation="dynamic"',
        'X-OCCI-Attribute: occi.core.summary="lab net"',
      ].join('\n'),
    });
    assert.equal(text.status, 201, text.text);
    const rendered = parseTextPlain(text.text);
    assert.equal(rendered.attributes['occi.network.gateway'], '10.41.0.1');
    assert.equal(rendered.attributes['occi.core.summary'], 'lab net');
    assert.ok(rendered.categories.some((c) => c.term === 'lab' && c.scheme === TAG));
    assert.equal((await call('DELETE', new URL(text.headers.get('location') ?? '').pathname)).status, 200);
  });

  it('refuses static allocation, allocation without the mixin, and other mixins, creating nothing', async () => {
    const base = { kind: `${INFRA}network`, attributes: { 'occi.network.address': '10.42.0.0/24' } };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        {
          ...base,
          mixins: [`${PROVIDER}sim-east`, IP_NETWORK],
          attributes: { ...base.attributes, 'occi.network.allocation': 'static' },
        },
        /occi.network.allocation: only dynamic/,
      ],
      [
        { ...base, mixins: [`${PROVIDER}sim-east`], attributes: { ...base.attributes, 'occi.network.allocation': 'dynamic' } },
        /attribute occi.network.allocation: not defined/,
      ],
      [{ ...base, mixins: [`${PROVIDER}sim-east`, IP_INTERFACE] }, /a network takes a provider mixin, the ipnetwork mixin/],
      [{ ...base, mixins: [IP_NETWORK] }, /a network needs one/],
    ];
    for (const [body, message] of cases) {
      const res = await call('POST', '/network/', { contentType: JSON_TYPE, body: JSON.stringify(body) });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.match(res.text, message);
    }
    assert.deepEqual(await listed(''), ['sim-east:default-network', 'sim-west:default-network'], 'nothing was created');
  });
});

describe('OCCI computes on a created network (sim)', () => {
  it('launches a compute linked to a network (JSON and text Link), renders its interface there, and keeps the network while it lives', async () => {
    const { id: netId, location: netLocation } = await createNetwork({
      kind: `${INFRA}network`,
      mixins: [`${PROVIDER}sim-east`, IP_NETWORK],
      attributes: { 'occi.core.title': 'apps', 'occi.network.address': '10.50.0.0/24', 'occi.network.gateway': '10.50.0.1' },
    });
    const created = await call('POST', '/compute/', {
      contentType: JSON_TYPE,
      accept: JSON_TYPE,
      body: JSON.stringify({
        kind: `${INFRA}compute`,
        mixins: [`${SKYGATE}sim-east/os_tpl#img-cirros-0-6`],
        attributes: { 'occi.core.title': 'on-apps' },
        links: [
          {
            kind: `${INFRA}networkinterface`,
            mixins: [IP_INTERFACE],
            target: { location: netLocation, kind: `${INFRA}network` },
            attributes: { 'occi.networkinterface.allocation': 'dynamic' },
          },
        ],
      }),
    });
    assert.equal(created.status, 201, created.text);
    const compute = new URL(created.headers.get('location') ?? '').pathname;
    const computeId = compute.slice('/compute/'.length);
    await waitComputeState(call, compute, 'running');
    const doc = await read(compute);
    const nic = (doc.links as Array<Record<string, unknown>>).find((l) => l.kind === `${INFRA}networkinterface`);
    assert.ok(nic, 'the compute renders its networkinterface');
    assert.deepEqual(nic.target, { location: netLocation, kind: `${INFRA}network` });
    assert.deepEqual(nic.mixins, [IP_INTERFACE]);
    const address = String((nic.attributes as Record<string, unknown>)['occi.networkinterface.address']);
    assert.match(address, /^10\.50\.0\.\d+$/);
    assert.notEqual(address, '10.50.0.1', 'never the gateway');
    assert.equal((nic.attributes as Record<string, unknown>)['occi.networkinterface.allocation'], 'dynamic');
    const link = await call('GET', `/networkinterface/${computeId}`, { accept: JSON_TYPE });
    assert.equal((json('link', link.text).target as { location: string }).location, netLocation);
    const rest = await gw.api('get', `/v1/instances/${computeId}`);
    assert.equal(rest.body.networkId, netId, 'REST shows the network');
    assert.equal(rest.body.privateIp, address);

    // The text rendering's Link line, as GFD.229 writes it (a second compute, another address of the block).
    const text = await call('POST', '/compute/', {
      contentType: 'text/plain',
      body: computeCreateText('sim-east', 'img-cirros-0-6', [
        `Link: <${netLocation}>;rel="${INFRA}network";category="${INFRA}networkinterface ${IP_INTERFACE}"`,
      ]),
    });
    assert.equal(text.status, 201, text.text);
    const second = new URL(text.headers.get('location') ?? '').pathname;
    const secondIp = (await gw.api('get', `/v1/instances/${second.slice('/compute/'.length)}`)).body;
    assert.equal(secondIp.networkId, netId);
    assert.match(secondIp.privateIp, /^10\.50\.0\.\d+$/);
    assert.notEqual(secondIp.privateIp, address);

    // An update may carry the compute's links back as read; a link elsewhere is a new link, refused, nothing moved.
    const asRead = await call('PUT', compute, { contentType: JSON_TYPE, accept: JSON_TYPE, body: JSON.stringify(doc) });
    assert.equal(asRead.status, 200, asRead.text);
    const moved = await call('POST', compute, {
      contentType: 'text/plain',
      body: `Link: <${gw.url}/network/sim-east:default-network>;rel="${INFRA}network";category="${INFRA}networkinterface"`,
    });
    assert.equal(moved.status, 400, moved.text);
    assert.match(moved.text, /an update does not add or move links/);
    assert.ok(moved.text.includes(`links to ${netLocation}`), moved.text);
    assert.equal((await gw.api('get', `/v1/instances/${computeId}`)).body.networkId, netId, 'still on its network');

    // A network in use stays: the sim's 409, and the network is still there.
    const inUse = await call('DELETE', netLocation);
    assert.equal(inUse.status, 409, inUse.text);
    assert.match(inUse.text, /is in use by instance i-/);
    assert.equal((await read(netLocation)).id, netId);

    // A compute without a link stays on the default network, as before.
    const plain = await call('POST', '/compute/', {
      contentType: 'text/plain',
      body: computeCreateText('sim-east', 'img-cirros-0-6'),
    });
    assert.equal(plain.status, 201, plain.text);
    const plainDoc = await read(new URL(plain.headers.get('location') ?? '').pathname);
    const plainNic = (plainDoc.links as Array<{ kind: string; target: { location: string } }>).find(
      (l) => l.kind === `${INFRA}networkinterface`,
    );
    assert.equal(plainNic?.target.location, '/network/sim-east:default-network');

    for (const c of [compute, second, new URL(plain.headers.get('location') ?? '').pathname]) {
      assert.equal((await call('DELETE', c)).status, 200);
    }
    const gone = await call('DELETE', netLocation);
    assert.equal(gone.status, 200, `once its computes are deleted the network goes: ${gone.text}`);
  });

  it("accepts rOCCI's sample compute (instance.json, instance.txt) with its networkinterface link pointed at a created network", async () => {
    const { location: netLocation } = await createNetwork({
      kind: `${INFRA}network`,
      mixins: [`${PROVIDER}sim-west`],
      attributes: { 'occi.network.address': '10.60.0.0/24' },
    });
    // The sample is a server's rendering: its storagelink is made after a create (POST /storagelink/), its id and the
    // interface's address and mac are what the provider assigns, and its network and template are the sample
    // server's. Rewritten to those of this gateway, the rest of it is a create request as a client sends it.
    const doc = JSON.parse(sample('instance.json')) as Record<string, unknown> & {
      links: Array<Record<string, unknown> & { attributes: Record<string, unknown>; target: { location: string } }>;
      attributes: Record<string, unknown>;
    };
    const nic = doc.links.find((l) => l.kind === `${INFRA}networkinterface`);
    assert.ok(nic);
    nic.target.location = netLocation;
    nic.attributes['occi.core.target'] = netLocation;
    const assigned = {
      'occi.networkinterface.address': nic.attributes['occi.networkinterface.address'],
      'occi.networkinterface.mac': nic.attributes['occi.networkinterface.mac'],
      'occi.networkinterface.interface': nic.attributes['occi.networkinterface.interface'],
    };
    for (const k of Object.keys(assigned)) delete nic.attributes[k];
    // Static allocation (the sample's) is not what the sim does: the provider assigns the address (dynamic).
    nic.attributes['occi.networkinterface.allocation'] = 'dynamic';
    const { id: _id, actions: _actions, ...request } = doc;
    const attributes = { ...doc.attributes };
    for (const k of [
      'occi.core.id',
      'occi.compute.architecture',
      'occi.compute.cores',
      'occi.compute.memory',
      'occi.compute.state',
    ])
      delete attributes[k];
    const body = { ...request, attributes, links: [nic], mixins: [`${SKYGATE}sim-west/os_tpl#img-cirros-0-6`] };
    const res = await call('POST', '/compute/', { contentType: JSON_TYPE, accept: JSON_TYPE, body: JSON.stringify(body) });
    assert.equal(res.status, 201, res.text);
    const made = json('resource', res.text);
    assert.equal(made.title, 'my_compute');
    const link = (made.links as Array<{ target: { location: string } }>).find((l) => l.target.location === netLocation);
    assert.ok(link, 'the compute is on the created network');

    // With what the provider assigns left in, or the storagelink kept, the same request is a 400 saying why.
    const before = await holdings(gw);
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [
        {
          ...body,
          links: [
            {
              ...nic,
              attributes: { ...nic.attributes, 'occi.networkinterface.address': assigned['occi.networkinterface.address'] },
            },
          ],
        },
        /links\[0\]: attribute occi.networkinterface.address: is assigned by the provider/,
      ],
      [
        { ...body, links: [{ ...nic, attributes: { ...nic.attributes, 'occi.networkinterface.allocation': 'static' } }] },
        /occi.networkinterface.allocation: only dynamic/,
      ],
      [{ ...body, links: doc.links }, /links\[0\]: a storage is attached after the create/],
    ];
    for (const [b, message] of refused) {
      const r = await call('POST', '/compute/', { contentType: JSON_TYPE, body: JSON.stringify(b) });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, message);
    }

    // instance.txt's networkinterface Link line, likewise pointed at the created network without what is assigned.
    const line = sample('instance.txt')
      .split('\n')
      .find((l) => l.startsWith('Link: </network/'));
    assert.ok(line);
    const textLink = line
      .replaceAll('/network/24', netLocation)
      .replace(/;occi\.networkinterface\.(mac|address|interface)="[^"]*"/g, '');
    const text = await call('POST', '/compute/', {
      contentType: 'text/plain',
      body: computeCreateText('sim-west', 'img-cirros-0-6', [textLink]),
    });
    assert.equal(text.status, 201, `${textLink}: ${text.text}`);
    const asSent = await call('POST', '/compute/', {
      contentType: 'text/plain',
      body: computeCreateText('sim-west', 'img-cirros-0-6', [line.replaceAll('/network/24', netLocation)]),
    });
    assert.equal(asSent.status, 400, asSent.text);
    assert.match(asSent.text, /Link 1: attribute occi.networkinterface.(mac|address|interface)/);
    assert.deepEqual(await holdings(gw), { ...before, instances: before.instances + 1, operations: before.operations + 1 });

    for (const c of [new URL(res.headers.get('location') ?? '').pathname, new URL(text.headers.get('location') ?? '').pathname])
      assert.equal((await call('DELETE', c)).status, 200);
    assert.equal((await call('DELETE', netLocation)).status, 200);
  });

  it('refuses a link to a network that does not exist, at another provider, or to two networks, creating nothing', async () => {
    const { location: west } = await createNetwork({
      kind: `${INFRA}network`,
      mixins: [`${PROVIDER}sim-west`],
      attributes: { 'occi.network.address': '10.70.0.0/24' },
    });
    const { location: east } = await createNetwork({
      kind: `${INFRA}network`,
      mixins: [`${PROVIDER}sim-east`],
      attributes: { 'occi.network.address': '10.71.0.0/24' },
    });
    const before = await holdings(gw);
    const nicTo = (location: string) => ({ kind: `${INFRA}networkinterface`, target: { location, kind: `${INFRA}network` } });
    const cases: Array<[unknown[], RegExp]> = [
      [[nicTo('/network/sim-east:net-00000000000000000')], /network 'sim-east:net-00000000000000000' does not exist/],
      [[nicTo(west)], /is at provider 'sim-west', not at 'sim-east'/],
      [[nicTo(east), nicTo('/network/sim-east:default-network')], /links\[1\]: a compute is on one network here/],
      [[{ target: { location: '/storage/sim-east:vol-1' } }], /links\[0\]: a compute create links only to a network/],
      [[{ ...nicTo(east), mixins: [IP_NETWORK] }], /links\[0\]: mixin .*#ipnetwork: a networkinterface takes only/],
      [
        [{ kind: `${INFRA}networkinterface`, target: { location: '/compute/x' } }],
        /links\[0\]: the target must be the location of a network/,
      ],
      [[{ kind: `${INFRA}networkinterface` }], /links\[0\]\.target: the location of the link's target is required/],
    ];
    for (const [links, message] of cases) {
      const res = await call('POST', '/compute/', {
        contentType: JSON_TYPE,
        body: JSON.stringify({ kind: `${INFRA}compute`, mixins: [`${SKYGATE}sim-east/os_tpl#img-cirros-0-6`], links }),
      });
      assert.equal(res.status, 400, `${JSON.stringify(links)}: ${res.text}`);
      assert.match(res.text, message);
    }
    // The ipnetwork mixins are a network's and a link's: named on the compute itself, they are a 400 too.
    for (const mixin of [IP_NETWORK, IP_INTERFACE]) {
      const res = await call('POST', '/compute/', {
        contentType: JSON_TYPE,
        body: JSON.stringify({
          kind: `${INFRA}compute`,
          mixins: [`${SKYGATE}sim-east/os_tpl#img-cirros-0-6`, mixin],
          attributes: mixin === IP_NETWORK ? { 'occi.network.address': '10.72.0.0/24' } : {},
        }),
      });
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, /: applies to .*, not to a compute/);
    }
    assert.deepEqual(await holdings(gw), before, 'nothing was created');
    for (const l of [west, east]) assert.equal((await call('DELETE', l)).status, 200);
  });
});

describe('OCCI networkinterface collection and updates', () => {
  it('lists one interface per compute, takes one back as read, and refuses adding, moving or removing one, with reasons', async () => {
    const created = await call('POST', '/compute/', {
      contentType: 'text/plain',
      body: computeCreateText('sim-east', 'img-cirros-0-6'),
    });
    assert.equal(created.status, 201, created.text);
    const compute = new URL(created.headers.get('location') ?? '').pathname;
    const nicPath = `/networkinterface/${compute.slice('/compute/'.length)}`;
    await waitComputeState(call, compute, 'running');

    const listed = await call('GET', '/networkinterface/?number=1000', { accept: 'text/uri-list' });
    assert.equal(listed.status, 200, listed.text);
    assert.ok(listed.text.split('\r\n').includes(`${gw.url}${nicPath}`), listed.text.slice(0, 300));
    json('entity-collection', (await call('GET', '/networkinterface/', { accept: JSON_TYPE })).text);

    const read = json('link', (await call('GET', nicPath, { accept: JSON_TYPE })).text);
    assert.equal((read.target as { location: string }).location, '/network/sim-east:default-network');
    for (const method of ['PUT', 'POST'] as const) {
      const same = await call(method, nicPath, { contentType: JSON_TYPE, accept: JSON_TYPE, body: JSON.stringify(read) });
      assert.equal(same.status, 200, `${method} as read: ${same.text}`);
    }
    const absolute = await call('POST', nicPath, {
      contentType: 'text/plain',
      body: `X-OCCI-Attribute: occi.core.target="${gw.url}/network/sim-east:default-network"`,
    });
    assert.equal(absolute.status, 200, absolute.text);

    const moved = await call('POST', nicPath, {
      contentType: 'text/plain',
      body: 'X-OCCI-Attribute: occi.core.target="/network/sim-west:default-network"',
    });
    assert.equal(moved.status, 400, moved.text);
    assert.match(moved.text, /attribute occi\.core\.target: cannot change .*interface is fixed/);

    const added = await call('POST', '/networkinterface/', {
      contentType: 'text/plain',
      body: `Category: networkinterface;scheme="${INFRA}";class="kind"\nX-OCCI-Attribute: occi.core.source="${compute}"\nX-OCCI-Attribute: occi.core.target="/network/sim-east:default-network"`,
    });
    assert.equal(added.status, 501, added.text);
    assert.match(added.text, /cannot add an interface to a compute that exists/);

    const removed = await call('DELETE', nicPath);
    assert.equal(removed.status, 400, removed.text);
    assert.match(removed.text, /only interface of .*DELETE the compute instead/);
    const after = json('link', (await call('GET', nicPath, { accept: JSON_TYPE })).text);
    assert.deepEqual(after.target, read.target, 'nothing moved');
    assert.equal((await call('DELETE', compute)).status, 200);
  });
});

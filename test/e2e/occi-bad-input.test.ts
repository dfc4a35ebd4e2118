/**
 * Bad OCCI input against a real gateway: each case gets GFD.223's status code and a message naming what is
 * wrong, and leaves nothing behind (no instance, volume or operation more than before).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ACTION, computeCreateText, holdings, INFRA, occiClient, SKYGATE, waitComputeState } from '../helpers/occi-client.js';

let gw: TestGateway;
let call: ReturnType<typeof occiClient>;
let running: string;
let stopped: string;
before(async () => {
  gw = await startTestGateway();
  call = occiClient(gw);
  const create = async () => {
    const res = await call('POST', '/compute/', {
      contentType: 'text/plain',
      body: computeCreateText('sim-east', 'img-debian-12'),
    });
    assert.equal(res.status, 201, res.text);
    return new URL(res.headers.get('location') ?? '').pathname;
  };
  running = await create();
  stopped = await create();
  await waitComputeState(call, running, 'running');
  await waitComputeState(call, stopped, 'running');
  const stop = await call('POST', `${stopped}?action=stop`, {
    contentType: 'text/plain',
    body: `Category: stop;scheme="${ACTION}";class="action"`,
  });
  assert.equal(stop.status, 200);
  await waitComputeState(call, stopped, 'stopped');
});
after(async () => {
  await gw.close();
});

const KIND = `Category: compute;scheme="${INFRA}";class="kind"`;
const OS_TPL = `Category: img-debian-12;scheme="${SKYGATE}sim-east/os_tpl#";class="mixin"`;

interface Case {
  name: string;
  method?: string;
  path?: () => string;
  contentType?: string;
  accept?: string;
  body?: string;
  headers?: Record<string, string>;
  status: number;
  /** What the message must name. */
  says: RegExp;
}

const CASES: Case[] = [
  {
    name: 'unknown kind',
    body: `Category: vm;scheme="${INFRA}";class="kind"\n${OS_TPL}`,
    status: 400,
    says: /kind '.*#vm' is not .*#compute/,
  },
  { name: 'no kind', body: OS_TPL, status: 400, says: /kind is missing/ },
  {
    name: 'unknown mixin',
    body: `${KIND}\nCategory: nope;scheme="${SKYGATE}sim-east/os_tpl#";class="mixin"`,
    status: 400,
    says: /unknown os_tpl/,
  },
  {
    name: 'mixin of an unknown scheme',
    body: `${KIND}\nCategory: small;scheme="http://example.org/tpl#";class="mixin"`,
    status: 400,
    says: /mixin http:\/\/example\.org\/tpl#small: unknown/,
  },
  {
    name: 'templates of two providers',
    body: `${KIND}\n${OS_TPL}\nCategory: sim-west;scheme="${SKYGATE}provider#";class="mixin"`,
    status: 400,
    says: /provider 'sim-(east|west)'/,
  },
  { name: 'no os_tpl', body: KIND, status: 400, says: /os_tpl: a compute needs one/ },
  {
    name: 'attribute of the wrong type',
    body: `${KIND}\n${OS_TPL}\nX-OCCI-Attribute: occi.core.title=5`,
    status: 400,
    says: /occi\.core\.title: must be a string/,
  },
  {
    name: 'unknown attribute',
    body: `${KIND}\n${OS_TPL}\nX-OCCI-Attribute: occi.compute.colour="red"`,
    status: 400,
    says: /occi\.compute\.colour: not defined/,
  },
  {
    name: 'immutable attribute',
    body: `${KIND}\n${OS_TPL}\nX-OCCI-Attribute: occi.compute.state="active"`,
    status: 400,
    says: /occi\.compute\.state: is immutable/,
  },
  {
    name: 'user data not base64',
    body: `${KIND}\n${OS_TPL}\nCategory: user_data;scheme="http://schemas.ogf.org/occi/infrastructure/compute#";class="mixin"\nX-OCCI-Attribute: occi.compute.userdata="not base64!"`,
    status: 400,
    says: /userdata: must be base64/,
  },
  {
    name: 'a zone the provider lacks',
    body: `${KIND}\n${OS_TPL}\nX-OCCI-Attribute: skygate.zone="mars-1"`,
    status: 400,
    says: /zone 'mars-1' does not exist/,
  },
  {
    name: 'storage without its required size',
    path: () => '/storage/',
    body: `Category: storage;scheme="${INFRA}";class="kind"\nCategory: sim-east;scheme="${SKYGATE}provider#";class="mixin"`,
    status: 400,
    says: /occi\.storage\.size: is required/,
  },
  {
    name: 'Category without a scheme',
    body: `Category: compute;class="kind"\n${OS_TPL}`,
    status: 400,
    says: /scheme is required/,
  },
  {
    name: 'Category with an upper-case term',
    body: `Category: Compute;scheme="${INFRA}";class="kind"`,
    status: 400,
    says: /'Compute' is not a term/,
  },
  {
    name: 'Category with an unterminated quote',
    body: `Category: compute;scheme="${INFRA};class="kind`,
    status: 400,
    says: /unterminated|quoted/,
  },
  {
    name: 'Category of no class',
    body: `Category: compute;scheme="${INFRA}";class="thing"`,
    status: 400,
    says: /class must be kind, mixin or action/,
  },
  {
    name: 'X-OCCI-Attribute without a value',
    body: `${KIND}\n${OS_TPL}\nX-OCCI-Attribute: occi.core.title`,
    status: 400,
    says: /expected name=value/,
  },
  {
    name: 'X-OCCI-Attribute with a bare word',
    body: `${KIND}\n${OS_TPL}\nX-OCCI-Attribute: occi.core.title=vm`,
    status: 400,
    says: /neither a quoted string/,
  },
  { name: 'a line that is no OCCI header', body: `${KIND}\n${OS_TPL}\nHello: world`, status: 400, says: /line 3/ },
  {
    name: 'malformed headers in text/occi',
    contentType: 'text/occi',
    body: '',
    headers: { Category: `compute;scheme="${INFRA}";class="kind"`, 'X-OCCI-Attribute': 'occi.core.title=="x"' },
    status: 400,
    says: /occi\.core\.title/,
  },
  { name: 'a body that is not JSON', contentType: 'application/occi+json', body: '{"kind":', status: 400, says: /not JSON/ },
  {
    name: 'JSON attributes of an unsupported type',
    contentType: 'application/occi+json',
    body: JSON.stringify({ kind: `${INFRA}compute`, attributes: { 'occi.core.title': null } }),
    status: 400,
    says: /attributes\.occi\.core\.title/,
  },
  {
    name: 'an unsupported Content-Type',
    contentType: 'application/xml',
    body: '<compute/>',
    status: 415,
    says: /application\/xml/,
  },
  {
    name: 'an Accept the front cannot answer',
    accept: 'application/xml',
    body: `${KIND}\n${OS_TPL}`,
    status: 406,
    says: /application\/xml/,
  },
  {
    name: 'an action on a compute that cannot take it',
    path: () => `${stopped}?action=restart`,
    body: `Category: restart;scheme="${ACTION}";class="action"`,
    status: 409,
    says: /cannot reboot .* while it is stopped/,
  },
  {
    name: 'save of a compute in no state to',
    path: () => `/compute/sim-east:i-nothere?action=save`,
    body: `Category: save;scheme="${ACTION}";class="action"`,
    status: 404,
    says: /does not exist/,
  },
  {
    name: 'an unknown action',
    path: () => `${running}?action=fly`,
    body: `Category: fly;scheme="${ACTION}";class="action"`,
    status: 400,
    says: /action 'fly'/,
  },
  {
    name: 'a body naming another action',
    path: () => `${running}?action=stop`,
    body: `Category: start;scheme="${ACTION}";class="action"`,
    status: 400,
    says: /must name the action .*#stop/,
  },
  {
    name: 'an action attribute of the wrong type',
    path: () => `${running}?action=stop`,
    body: `Category: stop;scheme="${ACTION}";class="action"\nX-OCCI-Attribute: method=1`,
    status: 400,
    says: /method: must be a string/,
  },
  {
    // Suspend applies to sim computes now; a provider that cannot suspend is in occi-api.test.ts (AWS, 400).
    name: 'suspend of a compute that does not exist',
    path: () => `/compute/sim-east:i-nothere?action=suspend`,
    body: `Category: suspend;scheme="${ACTION}";class="action"`,
    status: 404,
    says: /does not exist/,
  },
  {
    name: 'a partial update changing the os_tpl',
    path: () => running,
    body: `Category: img-cirros-0-6;scheme="${SKYGATE}sim-east/os_tpl#";class="mixin"`,
    status: 400,
    says: /os_tpl of a compute is immutable/,
  },
  {
    name: 'a filter by an attribute the kind lacks',
    method: 'GET',
    path: () => `/compute/?attribute=${encodeURIComponent('occi.compute.colour=red')}`,
    status: 400,
    says: /attribute occi\.compute\.colour: .*has no such attribute/,
  },
  {
    name: 'a filter attribute that is not name=value',
    method: 'GET',
    path: () => '/storage/?attribute=size',
    status: 400,
    says: /query attribute: 'size' is not name=value/,
  },
  {
    name: 'a storage filter by a template',
    method: 'GET',
    path: () => `/storage/?category=${encodeURIComponent(`${SKYGATE}sim-east/os_tpl#img-debian-12`)}`,
    status: 400,
    says: /storages are filtered only by provider and user mixins/,
  },
  {
    name: 'deleting a mixin that is not a user mixin',
    method: 'DELETE',
    path: () => '/-/',
    body: OS_TPL,
    status: 400,
    says: /user mixins are tags/,
  },
  {
    name: 'a storage action on no storage',
    path: () => '/storage/sim-east:vol-nothere?action=snapshot',
    body: 'Category: snapshot;scheme="http://schemas.ogf.org/occi/infrastructure/storage/action#";class="action"',
    status: 404,
    says: /does not exist/,
  },
  {
    name: 'an immutable attribute in an update',
    method: 'PUT',
    path: () => running,
    body: `${KIND}\nX-OCCI-Attribute: occi.compute.cores=4`,
    status: 400,
    says: /occi\.compute\.cores: is immutable/,
  },
  { name: 'a page number of 0', method: 'GET', path: () => '/compute/?page=0', status: 400, says: /query page/ },
  { name: 'a page past the last', method: 'GET', path: () => '/compute/?page=99&number=10', status: 404, says: /page 99/ },
  { name: 'too large a page', method: 'GET', path: () => '/compute/?number=100000', status: 413, says: /at most 1000/ },
  {
    name: 'a method the collection does not take',
    method: 'DELETE',
    path: () => '/compute/',
    status: 405,
    says: /DELETE is not allowed/,
  },
  {
    name: 'a mixin location that does not exist',
    method: 'GET',
    path: () => '/mixin/os_tpl/',
    status: 404,
    says: /no such mixin location/,
  },
  { name: 'an unknown compute', method: 'GET', path: () => '/compute/sim-east:i-nothere', status: 404, says: /does not exist/ },
  {
    name: 'creating a network without its address',
    path: () => '/network/',
    body: `Category: network;scheme="${INFRA}";class="kind"\nCategory: sim-east;scheme="${SKYGATE}provider#";class="mixin"`,
    status: 400,
    says: /attribute occi.network.address: is required/,
  },
];

describe('OCCI bad input', () => {
  it('answers each with its GFD.223 code and a message, and creates nothing', async () => {
    const before = await holdings(gw);
    for (const c of CASES) {
      const res = await call(c.method ?? 'POST', c.path?.() ?? '/compute/', {
        contentType: c.contentType ?? (c.body === undefined ? undefined : 'text/plain'),
        ...(c.accept !== undefined && { accept: c.accept }),
        ...(c.body !== undefined && { body: c.body }),
        ...(c.headers && { headers: c.headers }),
      });
      assert.equal(res.status, c.status, `${c.name}: ${res.text}`);
      assert.match(res.text, c.says, c.name);
      assert.match(res.headers.get('server') ?? '', /OCCI\/1\.2/);
    }
    assert.deepEqual(await holdings(gw), before, 'nothing was created');
  });
});

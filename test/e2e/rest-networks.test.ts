/**
 * Created networks through the REST API of a real gateway on 127.0.0.1: list (paged, by provider), create, get,
 * change and delete, against two sims and against an AWS provider answered by recorded EC2 responses. Every
 * response is checked against the spec; bad input names its field and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type request from 'supertest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  type RecordedAnswer,
  type RecordedServer,
  recordedAwsProvider,
  startRecordedServer,
} from '../helpers/recorded-aws-server.js';

const enc = encodeURIComponent;

/** A 4xx/5xx problem+json naming `field` (when given); answers its detail. */
function problem(res: request.Response, status: number, field?: string): string {
  assert.equal(res.status, status, res.text);
  assert.match(res.type, /application\/problem\+json/);
  const body = JSON.parse(res.text) as { field?: string; detail: string };
  if (field !== undefined) assert.equal(body.field, field, body.detail);
  return body.detail;
}

describe('REST networks on the sims', () => {
  let gw: TestGateway;
  let viewer: string;
  const ids = async (query = '') =>
    ((await gw.api('get', `/v1/networks${query}`)).body.items as Array<{ id: string }>).map((n) => n.id);

  before(async () => {
    gw = await startTestGateway();
    viewer = (await gw.api('post', '/v1/tokens', { name: 'dash', role: 'viewer' })).body.token;
  });
  after(async () => {
    await gw.close();
  });

  it('creates a network (201, Location), reads it back, lists it, and deletes it', async () => {
    const res = await gw.api('post', '/v1/networks', {
      provider: 'sim-east',
      name: 'backend',
      cidr: '10.20.0.0/24',
      gateway: '10.20.0.254',
      tags: { team: 'web' },
    });
    assert.equal(res.status, 201, res.text);
    const net = res.body as { id: string; provider: string; nativeId: string; cidr: string; gateway: string; tags: object };
    assert.equal(net.provider, 'sim-east');
    assert.equal(net.id, `sim-east:${net.nativeId}`);
    assert.equal(net.cidr, '10.20.0.0/24');
    assert.equal(net.gateway, '10.20.0.254');
    assert.deepEqual(net.tags, { team: 'web' });
    assert.equal(res.headers.location, `/v1/networks/${enc(net.id)}`);
    assert.deepEqual((await gw.api('get', res.headers.location as string)).body, net);
    assert.deepEqual(await ids(), [net.id]);
    assert.deepEqual(await ids('?provider=sim-west'), []);

    assert.equal((await gw.api('delete', `/v1/networks/${enc(net.id)}`)).status, 204);
    problem(await gw.api('get', `/v1/networks/${enc(net.id)}`), 404, 'path.id');
    problem(await gw.api('delete', `/v1/networks/${enc(net.id)}`), 404, 'path.id');
    assert.deepEqual(await ids(), []);
  });

  it('takes the first host as the gateway by default', async () => {
    const res = await gw.api('post', '/v1/networks', { provider: 'sim-west', name: 'small', cidr: '10.30.0.16/28' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.gateway, '10.30.0.17');
    assert.equal((await gw.api('delete', `/v1/networks/${enc(res.body.id)}`)).status, 204);
  });

  it('pages by id with nextCursor, bound to the provider filter', async () => {
    const made: string[] = [];
    for (const [i, provider] of ['sim-east', 'sim-west', 'sim-east'].entries()) {
      const res = await gw.api('post', '/v1/networks', { provider, name: `paged-${i}`, cidr: `10.40.${i}.0/24` });
      assert.equal(res.status, 201, res.text);
      made.push(res.body.id);
    }
    const first = await gw.api('get', '/v1/networks?limit=2');
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await gw.api('get', `/v1/networks?limit=2&cursor=${first.body.nextCursor}`);
    assert.equal(second.body.items.length, 1);
    assert.equal(second.body.nextCursor, undefined);
    const all = [...first.body.items, ...second.body.items].map((n: { id: string }) => n.id);
    assert.deepEqual(all, [...made].sort());
    problem(await gw.api('get', `/v1/networks?provider=sim-east&cursor=${first.body.nextCursor}`), 400, 'query.cursor');
    assert.equal((await ids('?provider=sim-east,sim-west')).length, 3);
    assert.equal((await ids('?provider=sim-east')).length, 2);
    problem(await gw.api('get', '/v1/networks?provider=sim-north'), 400, 'query.provider');
    for (const id of made) assert.equal((await gw.api('delete', `/v1/networks/${enc(id)}`)).status, 204);
  });

  it('refuses bad input naming the field, and makes nothing', async () => {
    const base = { provider: 'sim-east', name: 'bad', cidr: '10.50.0.0/24' };
    const cases: Array<[object, number, string, RegExp?]> = [
      [{ ...base, cidr: '10.50.0.0' }, 400, 'body.cidr', /CIDR notation/],
      [{ ...base, cidr: '10.50.0.0/8' }, 400, 'body.cidr', /\/16 to \/28/],
      [{ ...base, cidr: '10.50.0.1/24' }, 400, 'body.cidr', /network address \(10\.50\.0\.0\/24\)/],
      [{ ...base, gateway: '10.51.0.1' }, 400, 'body.gateway', /host address inside 10\.50\.0\.0\/24/],
      [{ ...base, gateway: '10.50.0.255' }, 400, 'body.gateway'],
      [{ ...base, name: '' }, 400, 'body.name'],
      [{ ...base, name: 'a\nb' }, 400, 'body.name'],
      [{ provider: 'sim-east', name: 'x' }, 400, 'body.cidr'],
      [{ ...base, zone: 'a' }, 400, 'body.zone'],
      [{ ...base, tags: { 'aws:x': 'y' } }, 400, 'body.tags.aws:x'],
      [{ ...base, provider: 'sim-north' }, 400, 'body.provider', /is not configured/],
    ];
    for (const [body, status, field, detail] of cases) {
      const text = problem(await gw.api('post', '/v1/networks', body), status, field);
      if (detail) assert.match(text, detail);
    }
    assert.deepEqual(await ids(), []);
  });

  it('keeps the default network and answers 404 for a network that is not there', async () => {
    problem(await gw.api('delete', `/v1/networks/${enc('sim-east:default-network')}`), 400, 'path.id');
    problem(await gw.api('get', `/v1/networks/${enc('sim-east:net-nothere')}`), 404, 'path.id');
    problem(await gw.api('get', '/v1/networks/no-colon'), 400, 'path.id');
    problem(await gw.api('patch', '/v1/networks/sim-east:net-1', {}), 400, 'body');
  });

  it('a viewer may list and read but not create, change or delete', async () => {
    const made = await gw.api('post', '/v1/networks', { provider: 'sim-east', name: 'ro', cidr: '10.60.0.0/24' });
    const path = `/v1/networks/${enc(made.body.id)}`;
    assert.equal((await gw.api('get', '/v1/networks', undefined, viewer)).status, 200);
    assert.equal((await gw.api('get', path, undefined, viewer)).status, 200);
    problem(await gw.api('post', '/v1/networks', { provider: 'sim-east', name: 'x', cidr: '10.61.0.0/24' }, viewer), 403);
    problem(await gw.api('patch', path, { name: 'y' }, viewer), 403);
    problem(await gw.api('delete', path, undefined, viewer), 403);
    assert.equal((await gw.api('delete', path)).status, 204);
  });
});

describe('REST networks on AWS (recorded EC2 answers)', () => {
  let server: RecordedServer;
  let gw: TestGateway;
  const script = new Map<string, RecordedAnswer>();

  before(async () => {
    server = await startRecordedServer('test/fixtures/aws/ec2', (action) => script.get(action));
    gw = await startTestGateway({ providers: [recordedAwsProvider(server.url)] });
  });
  after(async () => {
    await gw.close();
    await server.close();
  });

  it('creates a VPC with its subnet, lists it, renames and retags it with PATCH', async () => {
    script.set('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    script.set('CreateVpc', { file: 'CreateVpc-pending.xml' });
    script.set('DescribeSubnets', { file: 'DescribeSubnets-none.xml' });
    script.set('CreateSubnet', { file: 'CreateSubnet-available.xml' });
    const res = await gw.api('post', '/v1/networks', {
      provider: 'aws-rec',
      name: 'backend',
      cidr: '10.20.0.0/24',
      tags: { team: 'web' },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.id, 'aws-rec:vpc-1a2b3c4d');
    assert.equal(res.body.gateway, '10.20.0.1');
    assert.equal(server.of('CreateSubnet').length, 1);

    script.set('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    const listed = await gw.api('get', '/v1/networks?provider=aws-rec');
    assert.deepEqual(
      listed.body.items.map((n: { id: string; name: string }) => [n.id, n.name]),
      [['aws-rec:vpc-1a2b3c4d', 'backend']],
    );

    script.set('CreateTags', { file: 'CreateTags-true.xml' });
    script.set('DeleteTags', { file: 'DeleteTags-true.xml' });
    const changed = await gw.api('patch', `/v1/networks/${enc('aws-rec:vpc-1a2b3c4d')}`, {
      name: 'backend-2',
      tags: { env: 'prod' },
    });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.name, 'backend-2');
    assert.deepEqual(changed.body.tags, { env: 'prod' });
    assert.equal(server.of('DeleteTags').length, 1, 'the team tag left out is removed');
    problem(await gw.api('patch', `/v1/networks/${enc('aws-rec:vpc-1a2b3c4d')}`, { tags: { Name: 'x' } }), 400, 'body.tags.Name');
  });

  it('refuses a gateway AWS cannot have, naming it, before calling EC2', async () => {
    const before = server.requests.length;
    const detail = problem(
      await gw.api('post', '/v1/networks', { provider: 'aws-rec', name: 'b', cidr: '10.20.0.0/24', gateway: '10.20.0.9' }),
      400,
      'body.gateway',
    );
    assert.match(detail, /first host is always its router/);
    assert.equal(server.requests.length, before);
  });

  it('answers 409 for a network still in use, and 204 once it is not', async () => {
    script.set('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    script.set('DescribeSubnets', { file: 'DescribeSubnets-created.xml' });
    script.set('DeleteSubnet', { file: 'DeleteSubnet-DependencyViolation.xml', status: 400 });
    const path = `/v1/networks/${enc('aws-rec:vpc-1a2b3c4d')}`;
    assert.match(problem(await gw.api('delete', path), 409), /has dependencies/);
    script.set('DeleteSubnet', { file: 'DeleteSubnet-true.xml' });
    script.set('DeleteVpc', { file: 'DeleteVpc-true.xml' });
    assert.equal((await gw.api('delete', path)).status, 204);
  });
});

/** The REST API end to end against a real gateway on 127.0.0.1 with two sim clouds; every response checked against the spec. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { Instance, Operation } from '../../src/core/model.js';
import { ec2ClientFor } from '../helpers/ec2-client.js';
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { recordedAwsProvider, startRecordedServer } from '../helpers/recorded-aws-server.js';

let gw: TestGateway;
const create = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  request(gw.url).post('/v1/instances').set('Authorization', `Bearer ${ADMIN_TOKEN}`).set(headers).send(body);
const instanceBody = (name: string, provider = 'sim-east') => ({
  provider,
  name,
  flavorId: `${provider}:sim.small`,
  imageId: 'img-ubuntu-22-04',
  tags: { app: 'tour', team: 'blue' },
});

async function createInstance(name: string, provider = 'sim-east'): Promise<Instance> {
  const res = await gw.api('post', '/v1/instances', instanceBody(name, provider));
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const op = await gw.waitOperation(res.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  const got = await gw.api('get', `/v1/instances/${encodeURIComponent(String(op.result?.resourceId))}`);
  return got.body as Instance;
}

before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await gw.close();
});

describe('tour', () => {
  it('creates, lists across clouds, snapshots, stops, starts and terminates an instance', async () => {
    const res = await gw.api('post', '/v1/instances', instanceBody('web-1'));
    assert.equal(res.status, 202);
    assert.match(res.headers.location ?? '', /^\/v1\/operations\/op-/);
    assert.equal(res.body.kind, 'instance.create');
    const op = await gw.waitOperation(res.body.id);
    assert.equal(op.status, 'succeeded');
    assert.equal(op.progress, 100);
    assert.deepEqual(
      op.steps.map((s) => [s.name, s.status]),
      [
        ['request', 'succeeded'],
        ['wait-running', 'succeeded'],
      ],
    );
    const id = String(op.result?.resourceId);
    assert.match(id, /^sim-east:i-/);

    await createInstance('db-1', 'sim-west');
    const list = await gw.api('get', '/v1/instances?tag=app=tour&limit=10');
    assert.equal(list.status, 200);
    assert.deepEqual(new Set(list.body.items.map((i: Instance) => i.provider)), new Set(['sim-east', 'sim-west']));
    assert.deepEqual(
      list.body.providers.map((p: { id: string; status: string }) => [p.id, p.status]),
      [
        ['sim-east', 'fresh'],
        ['sim-west', 'fresh'],
      ],
    );

    const snap = await gw.api('post', `/v1/instances/${encodeURIComponent(id)}/snapshot`, { name: 'web-1-backup' });
    assert.equal(snap.status, 202);
    const snapOp = await gw.waitOperation(snap.body.id);
    assert.equal(snapOp.status, 'succeeded');
    const image = await gw.api('get', `/v1/images/${encodeURIComponent(String(snapOp.result?.resourceId))}`);
    assert.equal(image.body.state, 'available');
    assert.equal(image.body.sourceInstanceId, id);
    assert.ok(image.body.sizeBytes > 0);

    for (const [action, state] of [
      ['stop', 'stopped'],
      ['start', 'running'],
      ['reboot', 'running'],
    ] as const) {
      const r = await gw.api('post', `/v1/instances/${encodeURIComponent(id)}/${action}`);
      assert.equal(r.status, 202);
      assert.equal((await gw.waitOperation(r.body.id)).status, 'succeeded');
      assert.equal((await gw.api('get', `/v1/instances/${encodeURIComponent(id)}`)).body.state, state);
    }
    const del = await gw.api('delete', `/v1/instances/${encodeURIComponent(id)}`);
    assert.equal(del.status, 202);
    assert.equal((await gw.waitOperation(del.body.id)).status, 'succeeded');

    const illegal = await gw.api('post', `/v1/instances/${encodeURIComponent(id)}/start`);
    assert.equal(illegal.status, 409);
    assert.equal(illegal.body.field, 'path.id');
    assert.match(illegal.body.detail, /terminated/);
  });

  it('paginates with a cursor, each item exactly once, and filters by name and state', async () => {
    for (let i = 0; i < 5; i++) await createInstance(`page-${i}`);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await gw.api('get', `/v1/instances?provider=sim-east&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items.map((i: Instance) => i.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.length >= 5);
    const byName = await gw.api('get', '/v1/instances?name=page-3');
    assert.equal(byName.body.items.length, 1);
    const running = await gw.api('get', '/v1/instances?state=running&provider=sim-east');
    assert.ok(running.body.items.every((i: Instance) => i.state === 'running'));
  });
});

describe('volumes and snapshots', () => {
  it('creates, attaches, snapshots, detaches and deletes a volume', async () => {
    const inst = await createInstance('vol-host');
    const created = await gw.api('post', '/v1/volumes', { provider: 'sim-east', name: 'data', sizeGiB: 5 });
    assert.equal(created.status, 202);
    const volId = String((await gw.waitOperation(created.body.id)).result?.resourceId);
    const enc = encodeURIComponent(volId);
    const attach = await gw.api('post', `/v1/volumes/${enc}/attach`, { instanceId: inst.id });
    assert.equal((await gw.waitOperation(attach.body.id)).status, 'succeeded');
    const inUse = await gw.api('get', `/v1/volumes/${enc}`);
    assert.equal(inUse.body.state, 'in-use');
    assert.equal(inUse.body.attachedTo, inst.id);

    const busyDelete = await gw.api('delete', `/v1/volumes/${enc}`);
    assert.equal(busyDelete.status, 409);

    const snap = await gw.api('post', '/v1/snapshots', { volumeId: volId, name: 'data-snap' });
    const snapOp = await gw.waitOperation(snap.body.id);
    assert.equal(snapOp.status, 'succeeded');
    const snapshots = await gw.api('get', '/v1/snapshots?provider=sim-east');
    assert.ok(snapshots.body.items.some((s: { id: string }) => s.id === snapOp.result?.resourceId));

    assert.equal((await gw.waitOperation((await gw.api('post', `/v1/volumes/${enc}/detach`)).body.id)).status, 'succeeded');
    assert.equal((await gw.waitOperation((await gw.api('delete', `/v1/volumes/${enc}`)).body.id)).status, 'succeeded');
    const delSnap = await gw.api('delete', `/v1/snapshots/${encodeURIComponent(String(snapOp.result?.resourceId))}`);
    assert.equal((await gw.waitOperation(delSnap.body.id)).status, 'succeeded');
  });
});

describe('idempotency', () => {
  it('a retried create with the same Idempotency-Key answers the first operation and makes one VM', async () => {
    const body = instanceBody('idem-1');
    const [a, b] = await Promise.all([create(body, { 'Idempotency-Key': 'k-1' }), create(body, { 'Idempotency-Key': 'k-1' })]);
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    assert.equal(a.body.id, b.body.id);
    await gw.waitOperation(a.body.id);
    const again = await create(body, { 'Idempotency-Key': 'k-1' });
    assert.equal(again.body.id, a.body.id);
    const list = await gw.api('get', '/v1/instances?name=idem-1&fresh=true');
    assert.equal(list.body.items.length, 1);
  });

  it('refuses the same key for a different request', async () => {
    await create(instanceBody('idem-2'), { 'Idempotency-Key': 'k-2' });
    const res = await create(instanceBody('idem-other'), { 'Idempotency-Key': 'k-2' });
    assert.equal(res.status, 409);
    assert.equal(res.body.field, 'header.idempotency-key');
  });
});

describe('bad input: 4xx problem+json naming the field, nothing written', () => {
  const cases: Array<[string, () => request.Test, number, string | RegExp]> = [
    [
      'malformed JSON',
      () => request(gw.url).post('/v1/instances').set('Authorization', `Bearer ${ADMIN_TOKEN}`).type('json').send('{"provider":'),
      400,
      'body',
    ],
    ['wrong type', () => create({ ...instanceBody('x'), name: 42 }), 400, 'body.name'],
    ['unknown field', () => create({ ...instanceBody('x'), colour: 'red' }), 400, 'body.colour'],
    ['missing field', () => create({ provider: 'sim-east', name: 'x', imageId: 'img-ubuntu-22-04' }), 400, 'body.flavorId'],
    ['unknown provider', () => create(instanceBody('x', 'nowhere')), 400, 'body.provider'],
    ['unknown flavor', () => create({ ...instanceBody('x'), flavorId: 'sim-east:huge' }), 400, 'body.flavorId'],
    ['unknown image', () => create({ ...instanceBody('x'), imageId: 'img-nope' }), 400, 'body.imageId'],
    [
      'image of another provider',
      () => create({ ...instanceBody('x'), imageId: 'sim-west:img-ubuntu-22-04' }),
      400,
      'body.imageId',
    ],
    ['oversize body', () => create({ ...instanceBody('x'), userData: 'A'.repeat(2 * 1024 * 1024) }), 413, 'body'],
    [
      'id of the wrong shape',
      () => request(gw.url).get('/v1/instances/not-an-id').set('Authorization', `Bearer ${ADMIN_TOKEN}`),
      400,
      'path.id',
    ],
    [
      'id of an unknown provider',
      () => request(gw.url).get('/v1/instances/nowhere%3Ai-1').set('Authorization', `Bearer ${ADMIN_TOKEN}`),
      404,
      'path.id',
    ],
    [
      'limit out of range',
      () => request(gw.url).get('/v1/instances?limit=0').set('Authorization', `Bearer ${ADMIN_TOKEN}`),
      400,
      'query.limit',
    ],
    [
      'a cursor we did not issue',
      () => request(gw.url).get('/v1/instances?cursor=garbage').set('Authorization', `Bearer ${ADMIN_TOKEN}`),
      400,
      'query.cursor',
    ],
  ];
  for (const [name, send, status, field] of cases) {
    it(name, async () => {
      const before = (await gw.gateway.core.operations.list({ limit: 1000 })).length;
      const res = await send();
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
      const body = JSON.parse(res.text) as { field?: string; type: string; detail: string };
      if (typeof field === 'string') assert.equal(body.field, field, body.detail);
      assert.match(body.type, /^https:\/\/skygate\.dev\/problems\//);
      assert.equal((await gw.gateway.core.operations.list({ limit: 1000 })).length, before, 'no operation was written');
    });
  }
});

describe('auth', () => {
  it('refuses requests without a token, and viewers may read but not write', async () => {
    const anon = await request(gw.url).get('/v1/instances');
    assert.equal(anon.status, 401);
    const issued = await gw.api('post', '/v1/tokens', { name: 'dash', role: 'viewer' });
    assert.equal(issued.status, 201);
    const viewer = issued.body.token as string;
    assert.equal((await gw.api('get', '/v1/providers', undefined, viewer)).status, 200);
    const write = await gw.api('post', '/v1/instances', instanceBody('nope'), viewer);
    assert.equal(write.status, 403);
    assert.equal((await gw.api('get', '/v1/tokens', undefined, viewer)).status, 403);
    assert.equal((await gw.api('delete', `/v1/tokens/${issued.body.id}`)).status, 204);
    assert.equal((await gw.api('get', '/v1/providers', undefined, viewer)).status, 401);
  });

  it('/healthz and /metrics are open', async () => {
    assert.equal((await request(gw.url).get('/healthz')).status, 200);
    const metrics = await request(gw.url).get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /skygate_operations_total/);
  });
});

describe('single pane of glass under a cloud outage', () => {
  it('keeps listing, with the down provider marked stale, and reports its health', async () => {
    await createInstance('survivor', 'sim-west');
    await gw.api('get', '/v1/instances?fresh=true');
    const put = await gw.api('put', '/v1/admin/providers/sim-west/faults', { outage: true });
    assert.equal(put.status, 200);
    try {
      const list = await gw.api('get', '/v1/instances?fresh=true&limit=1000');
      assert.equal(list.status, 200);
      const west = list.body.providers.find((p: { id: string }) => p.id === 'sim-west');
      assert.equal(west.status, 'stale');
      assert.ok(west.error);
      const survivor = list.body.items.find((i: Instance) => i.name === 'survivor');
      assert.equal(survivor.freshness, 'stale');
      assert.equal((await gw.api('get', '/v1/providers/sim-west/health')).body.status, 'down');
      const get = await gw.api('get', `/v1/instances/${encodeURIComponent(survivor.id)}`);
      assert.equal(get.status, 200);
      assert.equal(get.body.freshness, 'stale');
      const createThere = await create(instanceBody('during-outage', 'sim-west'));
      assert.equal(createThere.status, 503);
    } finally {
      await gw.api('put', '/v1/admin/providers/sim-west/faults', { outage: false });
    }
  });
});

describe('event stream', () => {
  it('streams operation events over SSE', async () => {
    const received: string[] = [];
    const { port } = new URL(gw.url);
    const done = new Promise<void>((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/events?since=0',
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
          // A deadline: an event that never comes fails the test instead of hanging it.
          signal: AbortSignal.timeout(15_000),
        },
        (res) => {
          assert.equal(res.headers['content-type'], 'text/event-stream');
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            for (const m of chunk.matchAll(/^event: (.+)$/gm)) received.push(m[1] ?? '');
            if (received.includes('operation.succeeded')) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
    });
    await createInstance('sse');
    await done;
    assert.ok(received.includes('operation.created'));
    const recent = await gw.api('get', '/v1/events/recent?since=0&limit=5');
    assert.equal(recent.body.items.length, 5);
  });
});

describe('operations', () => {
  it('lists operations newest first with status filter and cursor', async () => {
    const page1 = await gw.api('get', '/v1/operations?status=succeeded&limit=2');
    assert.equal(page1.body.items.length, 2);
    assert.ok(page1.body.items.every((o: Operation) => o.status === 'succeeded'));
    assert.ok(page1.body.items[0].createdAt >= page1.body.items[1].createdAt);
    const page2 = await gw.api('get', `/v1/operations?status=succeeded&limit=2&cursor=${page1.body.nextCursor}`);
    assert.notEqual(page2.body.items[0].id, page1.body.items[0].id);
    assert.equal((await gw.api('get', '/v1/operations/op-unknown')).status, 404);
  });
});

describe('suspend and resume', () => {
  it('suspends a sim instance (EC2 shows it stopped, as a hibernated one), and start resumes it', async () => {
    const caps = await gw.api('get', '/v1/providers/sim-east/capabilities');
    assert.equal(caps.body.suspend, true);
    const vm = await createInstance('suspend-1');
    const url = `/v1/instances/${encodeURIComponent(vm.id)}`;
    const res = await gw.api('post', `${url}/suspend`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.kind, 'instance.suspend');
    // Read your writes: suspending at once (or suspended already, the sim being quick).
    assert.ok(['suspending', 'suspended'].includes((await gw.api('get', url)).body.state));
    const op = await gw.waitOperation(res.body.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.deepEqual(
      op.steps.map((s) => [s.name, s.status]),
      [
        ['request', 'succeeded'],
        ['wait-suspended', 'succeeded'],
      ],
    );
    assert.equal((await gw.api('get', url)).body.state, 'suspended');
    const listed = await gw.api('get', '/v1/instances?state=suspended&provider=sim-east');
    assert.deepEqual(
      listed.body.items.map((i: Instance) => i.id),
      [vm.id],
    );

    const ec2 = await ec2ClientFor(gw, 'sim-east');
    const seen = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'private-ip-address', Values: [String(vm.privateIp)] }] }),
    );
    const shown = seen.Reservations?.[0]?.Instances?.[0];
    assert.deepEqual([shown?.State?.Code, shown?.State?.Name], [80, 'stopped']);
    assert.equal(shown?.StateReason?.Code, 'Client.UserInitiatedHibernate');
    ec2.destroy();

    // A suspended instance cannot stop or reboot (nova refuses too); it can be started, which resumes it.
    for (const action of ['stop', 'reboot']) {
      const refused = await gw.api('post', `${url}/${action}`);
      assert.equal(refused.status, 409, action);
      assert.equal(refused.body.field, 'path.id');
      assert.match(refused.body.detail, /while it is suspended/);
    }
    const start = await gw.api('post', `${url}/start`);
    assert.equal(start.status, 202);
    assert.equal((await gw.waitOperation(start.body.id)).status, 'succeeded');
    assert.equal((await gw.api('get', url)).body.state, 'running');

    const stop = await gw.api('post', `${url}/stop`);
    assert.equal((await gw.waitOperation(stop.body.id)).status, 'succeeded');
    const notRunning = await gw.api('post', `${url}/suspend`);
    assert.equal(notRunning.status, 409);
    assert.match(notRunning.body.detail, /cannot suspend instance .* while it is stopped/);
    const del = await gw.api('delete', url);
    assert.equal((await gw.waitOperation(del.body.id)).status, 'succeeded');
  });

  it('refuses to suspend at a provider that cannot (AWS: hibernation needs launch-time configuration), calling nothing', async () => {
    const server = await startRecordedServer('test/fixtures/aws/ec2', (action) =>
      // DescribeVpcs: the instance's VPC is looked up to tell whether it is a network skygate created (it is not).
      action === 'DescribeInstances'
        ? { file: 'DescribeInstances-one.xml' }
        : action === 'DescribeVpcs'
          ? { file: 'DescribeVpcs-none.xml' }
          : undefined,
    );
    const aws = await startTestGateway({ providers: [recordedAwsProvider(server.url)] });
    try {
      assert.equal((await aws.api('get', '/v1/providers/aws-rec/capabilities')).body.suspend, false);
      const res = await aws.api('post', `/v1/instances/${encodeURIComponent('aws-rec:i-1234567890abcdef0')}/suspend`);
      assert.equal(res.status, 501, JSON.stringify(res.body));
      assert.equal(res.body.code, 'unsupported');
      assert.equal(res.body.field, 'path.id');
      assert.match(res.body.detail, /provider 'aws-rec' cannot suspend instances: .*hibernat.*launched/);
      const actions = new Set(server.requests.map((r) => r.action));
      for (const a of ['StopInstances', 'StartInstances', 'RebootInstances']) assert.ok(!actions.has(a), `no ${a}`);
      assert.equal((await aws.api('get', '/v1/operations?kind=instance.suspend')).body.items.length, 0, 'no operation');
    } finally {
      await aws.close();
      await server.close();
    }
  });
});

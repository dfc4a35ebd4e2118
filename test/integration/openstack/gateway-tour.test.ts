/**
 * The gateway's REST tour (the README's, and more) with the local OpenStack behind it beside sim-east:
 * every response is checked against the OpenAPI spec by the test client.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { Image, Instance, Operation, Provider, Volume } from '../../../src/core/model.js';
import { simProviders, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { baseImage, openstackProvider, TINY_FLAVOR, tenantAdapter } from './openstack-env.js';

let gw: TestGateway;
let imageId: string;
const run = randomUUID().slice(0, 8);
const url = (id: string) => encodeURIComponent(id);

async function operate(method: 'post' | 'delete', path: string, body?: unknown): Promise<Operation> {
  const res = await gw.api(method, path, body);
  assert.equal(res.status, 202, `${method} ${path}: ${JSON.stringify(res.body)}`);
  const op = await gw.waitOperation((res.body as Operation).id, 180_000);
  assert.equal(op.status, 'succeeded', `${method} ${path}: ${JSON.stringify(op.error)}`);
  return op;
}

before(async () => {
  imageId = `os:${await baseImage(await tenantAdapter())}`;
  gw = await startTestGateway({ providers: [...simProviders(20).slice(0, 1), openstackProvider('os')] });
});

after(async () => {
  await gw.close();
});

it('tours providers, flavors, images, instances, snapshots, volumes and events on OpenStack', { timeout: 600_000 }, async () => {
  // 1. the clouds behind the gateway
  const providers = (await gw.api('get', '/v1/providers')).body as { items: Provider[] };
  const os = providers.items.find((p) => p.id === 'os');
  assert.equal(os?.type, 'openstack');
  assert.equal(os?.health.status, 'up', JSON.stringify(os?.health));
  assert.deepEqual(os?.zones, ['nova']);
  assert.equal(os?.capabilities.imageUpload, true);
  assert.equal(os?.capabilities.nativeImageCopy, false);
  const flavors = (await gw.api('get', '/v1/flavors?provider=os')).body as { items: Array<{ id: string; memoryMiB: number }> };
  assert.ok(flavors.items.some((f) => f.id === `os:${TINY_FLAVOR}` && f.memoryMiB === 512));
  const images = (await gw.api('get', '/v1/images?provider=os&fresh=true')).body as { items: Image[] };
  assert.ok(images.items.some((i) => i.id === imageId && i.state === 'available'));

  // 2. create on OpenStack
  const body = { provider: 'os', name: `tour-${run}`, flavorId: `os:${TINY_FLAVOR}`, imageId, tags: { app: `tour-${run}` } };
  const first = await gw.api('post', '/v1/instances', body);
  assert.equal(first.status, 202);
  const created = await gw.waitOperation((first.body as Operation).id, 180_000);
  assert.equal(created.status, 'succeeded', JSON.stringify(created.error));
  const vmId = String(created.result?.resourceId);
  assert.match(vmId, /^os:[0-9a-f-]{36}$/);

  // 3. one more on sim-east, then one list across both clouds, filtered by tag
  await operate('post', '/v1/instances', {
    provider: 'sim-east',
    name: `tour-${run}-sim`,
    flavorId: 'sim.small',
    imageId: 'img-debian-12',
    tags: { app: `tour-${run}` },
  });
  const listed = (await gw.api('get', `/v1/instances?tag=app=tour-${run}&fresh=true`)).body as {
    items: Instance[];
    providers: Array<{ id: string; status: string }>;
  };
  assert.deepEqual(listed.items.map((i) => i.provider).sort(), ['os', 'sim-east']);
  assert.ok(
    listed.providers.every((p) => p.status === 'fresh'),
    JSON.stringify(listed.providers),
  );

  // 4. snapshot into an image
  const snap = await operate('post', `/v1/instances/${url(vmId)}/snapshot`, { name: `tour-${run}-backup` });
  const backup = (await gw.api('get', `/v1/images/${url(String(snap.result?.resourceId))}`)).body as Image;
  assert.equal(backup.state, 'available');
  assert.equal(backup.sourceInstanceId, vmId);

  // 5. a volume: create, attach, snapshot, detach, delete
  const vol = await operate('post', '/v1/volumes', { provider: 'os', name: `tour-${run}-vol`, sizeGiB: 1, zone: 'nova' });
  const volId = String(vol.result?.resourceId);
  await operate('post', `/v1/volumes/${url(volId)}/attach`, { instanceId: vmId });
  const attached = (await gw.api('get', `/v1/volumes/${url(volId)}`)).body as Volume;
  assert.deepEqual({ state: attached.state, attachedTo: attached.attachedTo }, { state: 'in-use', attachedTo: vmId });
  const volSnap = await operate('post', '/v1/snapshots', { volumeId: volId, name: `tour-${run}-vsnap` });
  await operate('delete', `/v1/snapshots/${url(String(volSnap.result?.resourceId))}`);
  await operate('post', `/v1/volumes/${url(volId)}/detach`);
  await operate('delete', `/v1/volumes/${url(volId)}`);

  // 6. stop, start, reboot, terminate
  await operate('post', `/v1/instances/${url(vmId)}/stop`);
  assert.equal(((await gw.api('get', `/v1/instances/${url(vmId)}`)).body as Instance).state, 'stopped');
  await operate('post', `/v1/instances/${url(vmId)}/start`);
  await operate('post', `/v1/instances/${url(vmId)}/reboot`);
  await operate('delete', `/v1/instances/${url(vmId)}`);
  // nova answers 404 for a deleted server at once; skygate shows it terminated for the retention (an hour)
  const gone = await gw.api('get', `/v1/instances/${url(vmId)}`);
  assert.equal(gone.status, 200);
  assert.equal((gone.body as Instance).state, 'terminated');
  await operate('delete', `/v1/images/${url(String(snap.result?.resourceId))}`);

  // 7. what happened, as events; a bad reference is a problem naming the field
  const events = (await gw.api('get', '/v1/events/recent?limit=100')).body as {
    items: Array<{ type: string; subject?: string }>;
  };
  assert.ok(events.items.some((e) => e.type === 'instance.running' && e.subject === vmId));
  const bad = await gw.api('post', '/v1/instances', { ...body, flavorId: 'os:no-such-flavor' });
  assert.equal(bad.status, 400);
  assert.equal((bad.body as { field: string }).field, 'body.flavorId');
});

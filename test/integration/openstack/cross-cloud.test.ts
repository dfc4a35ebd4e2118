/**
 * Cross-cloud through one gateway: a VM made on sim-east is snapshotted, its image is moved to OpenStack
 * and a VM boots from it there: once through the gateway's OVA pipeline (POST /v1/images/{id}/replicate:
 * export to OVA, validate, convert, upload to glance) and once as a direct disk copy between the two
 * adapters (downloadImage -> uploadImage, streamed).
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import type { Instance, Operation } from '../../../src/core/model.js';
import { simProviders, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { openstackProvider, TINY_FLAVOR } from './openstack-env.js';

let gw: TestGateway;
const cleanup: Array<() => Promise<unknown>> = [];

async function sha256(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Submits a mutation and waits for its operation; answers the finished operation. */
async function operate(method: 'post' | 'delete', path: string, body?: unknown): Promise<Operation> {
  const res = await gw.api(method, path, body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const op = await gw.waitOperation((res.body as Operation).id, 180_000);
  assert.equal(op.status, 'succeeded', `${method} ${path}: ${JSON.stringify(op.error)}`);
  return op;
}

const url = (id: string) => encodeURIComponent(id);

before(async () => {
  gw = await startTestGateway({ providers: [...simProviders(20).slice(0, 1), openstackProvider('os')] });
});

after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  await gw.close();
});

/** A running VM on sim-east and its snapshot image's id. */
async function simSnapshot(run: string): Promise<string> {
  const made = await operate('post', '/v1/instances', {
    provider: 'sim-east',
    name: `xc-${run}`,
    flavorId: 'sim.small',
    imageId: 'img-ubuntu-22-04',
    tags: { app: 'cross-cloud' },
  });
  const simVm = String(made.result?.resourceId);
  cleanup.push(() => gw.api('delete', `/v1/instances/${url(simVm)}`));
  const snap = await operate('post', `/v1/instances/${url(simVm)}/snapshot`, { name: `xc-${run}-image` });
  const simImage = String(snap.result?.resourceId);
  assert.match(simImage, /^sim-east:img-/);
  return simImage;
}

/** Boots a VM on OpenStack from `imageId` through the gateway and checks it runs. */
async function bootOnOpenStack(run: string, imageId: string): Promise<void> {
  const booted = await operate('post', '/v1/instances', {
    provider: 'os',
    name: `xc-${run}-booted`,
    flavorId: TINY_FLAVOR,
    imageId,
  });
  const osVm = String(booted.result?.resourceId);
  cleanup.push(() => gw.api('delete', `/v1/instances/${url(osVm)}`));
  const vm = (await gw.api('get', `/v1/instances/${url(osVm)}`)).body as Instance;
  assert.equal(vm.state, 'running');
  assert.equal(vm.imageId, imageId);
}

it('replicates a sim-east snapshot to OpenStack through the OVA pipeline and boots it there', { timeout: 600_000 }, async () => {
  const run = randomUUID().slice(0, 8);
  const simImage = await simSnapshot(run);
  const op = await operate('post', `/v1/images/${url(simImage)}/replicate`, { targets: ['os'] });
  const replicas = (op.result?.replicas ?? []) as Array<{ provider: string; imageId: string; method: string }>;
  assert.equal(replicas.length, 1, JSON.stringify(op.result));
  const [replica] = replicas;
  assert.deepEqual({ provider: replica?.provider, method: replica?.method }, { provider: 'os', method: 'ova' });
  const replicaId = String(replica?.imageId);
  cleanup.push(() => gw.api('delete', `/v1/images/${url(replicaId)}`));
  const image = (await gw.api('get', `/v1/images/${url(replicaId)}`)).body as { state: string; tags: Record<string, string> };
  assert.equal(image.state, 'available');
  assert.equal(image.tags['skygate.replicaOf'], simImage);
  await bootOnOpenStack(run, replicaId);
});

it('snapshots a sim-east VM, copies its disk to OpenStack and boots it there', { timeout: 600_000 }, async () => {
  const run = randomUUID().slice(0, 8);
  const simImage = await simSnapshot(run);

  const registry = gw.gateway.internals.registry;
  const sim = registry.cloud('sim-east');
  const os = registry.cloud('os');
  assert.ok(sim.downloadImage && os.uploadImage, 'both clouds move image bytes');
  const simNative = simImage.slice('sim-east:'.length);
  const source = await sim.downloadImage(simNative);
  const moved = await os.uploadImage(
    {
      name: `xc-${run}-image`,
      diskFormat: source.diskFormat,
      sizeBytes: source.sizeBytes,
      clientToken: `xc-${run}`,
      tags: { 'moved-from': simImage },
    },
    source.stream,
  );
  cleanup.push(() => os.deleteImage(moved.nativeId));
  assert.equal(moved.state, 'available');
  assert.equal(moved.sizeBytes, source.sizeBytes);
  assert.equal(
    await sha256((await os.downloadImage?.(moved.nativeId))?.stream as Readable),
    await sha256((await sim.downloadImage(simNative)).stream),
    'OpenStack holds the same bytes as the sim snapshot',
  );

  const image = await gw.api('get', `/v1/images/${url(`os:${moved.nativeId}`)}`);
  assert.equal(image.status, 200);
  assert.equal((image.body as { tags: Record<string, string> }).tags['moved-from'], simImage);

  await bootOnOpenStack(run, `os:${moved.nativeId}`);
});

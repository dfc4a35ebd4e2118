/**
 * Sim instances that serve: real HTTP to each workload instance on its own loopback address, data on the instance's
 * own disk carried by images (and by an image's bytes into another cloud), and the faults that take it away.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createCloudAdapter, type SimCloudAdapter } from '../../adapters/sim/index.js';
import { readKvLog } from '../../adapters/sim/workload/kv-log.js';
import type { NativeInstance } from '../../src/core/ports.js';
import { errorCode } from '../contract/cloud-adapter-contract.js';
import { freePort, probe, until } from '../helpers/http-probe.js';

const quiet = { info() {}, warn() {}, error() {} };
const WORKLOAD_IMAGE = 'img-kv-app';
let root: string;
let port: number;
let seq = 0;
const open: SimCloudAdapter[] = [];

/** A block of its own per run, so runs on one machine never meet on an address. */
const randomBlock = () => `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.0/24`;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'skygate-workload-'));
  port = await freePort();
});
afterEach(async () => {
  for (const a of open.splice(0)) await a.close();
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function sim(id = 'sim-w', extra: Record<string, unknown> = {}, dataDir = join(root, `${id}-${++seq}`)) {
  const adapter = await createCloudAdapter({
    providerId: id,
    settings: {
      latencyMs: 0,
      addressBlock: randomBlock(),
      workload: { port, images: [{ id: WORKLOAD_IMAGE, name: 'kv-app' }] },
      ...extra,
    },
    dataDir,
    log: quiet,
  });
  open.push(adapter);
  return { adapter, dataDir };
}

const launch = (a: SimCloudAdapter, imageId = WORKLOAD_IMAGE) =>
  a.createInstance({ name: `w-${++seq}`, flavorId: 'sim.small', imageId, clientToken: `tok-${seq}` });
const url = (vm: NativeInstance, path: string) => `http://${vm.privateIp}:${port}${path}`;
const put = (vm: NativeInstance, key: string, value: string) => probe(url(vm, `/kv/${key}`), { method: 'PUT', body: value });
const value = async (vm: NativeInstance, key: string) => (await probe(url(vm, `/kv/${key}`))).body;

describe('sim workload', () => {
  it('serves health, whoami and a key-value store on the instance address, with data on its own disk', async () => {
    const { adapter, dataDir } = await sim();
    const vm = await launch(adapter);
    assert.equal(vm.state, 'running');
    assert.match(vm.privateIp ?? '', /^127\./);
    const health = await probe(url(vm, '/healthz'));
    assert.equal(health.status, 200, JSON.stringify(health));
    assert.equal(health.headers?.['x-skygate-instance'], vm.nativeId);
    const who = JSON.parse((await probe(url(vm, '/whoami'))).body ?? '{}');
    assert.deepEqual(
      { instance: who.instance, provider: who.provider, image: who.image, address: who.address, port: who.port },
      { instance: vm.nativeId, provider: 'sim-w', image: WORKLOAD_IMAGE, address: vm.privateIp, port },
    );
    assert.equal((await put(vm, 'greeting', 'hello')).status, 201);
    assert.equal((await put(vm, 'greeting', 'hello again')).status, 200);
    assert.equal(await value(vm, 'greeting'), 'hello again');
    assert.equal((await probe(url(vm, '/kv/absent'))).status, 404);
    assert.equal((await probe(url(vm, '/kv/bad%20key'), { method: 'PUT', body: 'x' })).status, 400);
    assert.equal((await probe(url(vm, '/kv/big'), { method: 'PUT', body: Buffer.alloc(64 * 1024 + 1) })).status, 413);
    assert.equal((await probe(url(vm, '/healthz'), { method: 'POST' })).status, 405);
    assert.deepEqual(JSON.parse((await probe(url(vm, '/kv'))).body ?? '{}'), { keys: ['greeting'] });

    // The data is in the instance's own copy of the disk, not in the image's.
    const own = join(dataDir, 'disks', `${vm.nativeId}.raw`);
    assert.equal(readKvLog(own).get('greeting')?.toString(), 'hello again');
    assert.equal(readKvLog(join(dataDir, 'disks', `${WORKLOAD_IMAGE}.raw`)).size, 0);
    assert.ok(statSync(own).blocks * 512 < 4 * 1024 * 1024, 'the copy stays sparse: it costs what was written, not 64 MiB');
  });

  it('leaves plain instances alone: no server, no disk copy', async () => {
    const { adapter, dataDir } = await sim();
    const vm = await launch(adapter, 'img-cirros-0-6');
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED');
    assert.equal(existsSync(join(dataDir, 'disks', `${vm.nativeId}.raw`)), false);
    assert.equal((await adapter.extensions.workloadHost()).state, 'idle', 'no host process for plain instances');
  });

  it('carries the data into an image: an instance launched from it serves exactly that data', async () => {
    const { adapter } = await sim();
    const vm = await launch(adapter);
    await put(vm, 'a', '1');
    await put(vm, 'b', '2');
    const image = await adapter.createImageFromInstance(vm.nativeId, { name: 'snap-1', clientToken: `img-${++seq}` });
    assert.equal(image.tags['sim:workload'], 'kv', 'the captured image runs the workload too');
    await put(vm, 'c', 'written after the image');
    await put(vm, 'a', 'changed after the image');

    const copy = await launch(adapter, image.nativeId);
    assert.notEqual(copy.privateIp, vm.privateIp);
    assert.deepEqual(JSON.parse((await probe(url(copy, '/kv'))).body ?? '{}'), { keys: ['a', 'b'] });
    assert.equal(await value(copy, 'a'), '1');
    assert.equal(JSON.parse((await probe(url(copy, '/whoami'))).body ?? '{}').image, image.nativeId);
    // Two instances, two disks: a write to the copy does not reach the original.
    await put(copy, 'b', 'copy only');
    assert.equal(await value(vm, 'b'), '2');
  });

  it("carries the data into another cloud through the image's bytes, as a replica does", async () => {
    const east = (await sim('sim-east')).adapter;
    const west = (await sim('sim-west')).adapter;
    const vm = await launch(east);
    await put(vm, 'order-1', 'paid');
    const image = await east.createImageFromInstance(vm.nativeId, { name: 'replica-src', clientToken: `img-${++seq}` });
    const { stream, sizeBytes } = await east.downloadImage(image.nativeId);
    const replica = await west.uploadImage(
      { name: 'replica', diskFormat: 'raw', sizeBytes, tags: image.tags, clientToken: `up-${++seq}` },
      stream,
    );
    const standby = await launch(west, replica.nativeId);
    assert.equal(await value(standby, 'order-1'), 'paid');
    assert.equal(JSON.parse((await probe(url(standby, '/whoami'))).body ?? '{}').provider, 'sim-west');
  });

  it('stops serving when the instance stops, serves its data again on start, and forgets it on terminate', async () => {
    const { adapter, dataDir } = await sim();
    const vm = await launch(adapter);
    await put(vm, 'k', 'v');
    await adapter.stopInstance(vm.nativeId);
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED');
    await adapter.startInstance(vm.nativeId);
    assert.equal(await value(vm, 'k'), 'v');
    await adapter.deleteInstance(vm.nativeId);
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED');
    assert.equal(existsSync(join(dataDir, 'disks', `${vm.nativeId}.raw`)), false, 'the terminated instance disk is gone');
  });

  it('stops serving while suspended and serves its data again once resumed', async () => {
    const { adapter } = await sim('sim-w', { latencyMs: 200 });
    const vm = await launch(adapter);
    await until(async () => (await probe(url(vm, '/healthz'))).status === 200, 5000, 'serving after pending');
    assert.equal((await put(vm, 'kept', 'through a suspend')).status, 201);
    await adapter.suspendInstance(vm.nativeId);
    assert.equal((await adapter.getInstance(vm.nativeId)).state, 'suspending');
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED', 'down as soon as it is suspending');
    await until(async () => (await adapter.getInstance(vm.nativeId)).state === 'suspended', 5000, 'suspended');
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED', 'down while suspended');
    await adapter.startInstance(vm.nativeId);
    await until(async () => (await probe(url(vm, '/healthz'))).status === 200, 5000, 'serving after the resume');
    assert.equal((await adapter.getInstance(vm.nativeId)).state, 'running');
    assert.equal(await value(vm, 'kept'), 'through a suspend');
  });

  it('starts serving by itself when a pending instance becomes running, and pauses for a reboot', async () => {
    const { adapter } = await sim('sim-w', { latencyMs: 300 });
    const vm = await launch(adapter);
    assert.equal(vm.state, 'pending');
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED');
    await until(async () => (await probe(url(vm, '/healthz'))).status === 200, 5000, 'serving after pending');
    assert.equal((await adapter.getInstance(vm.nativeId)).state, 'running');
    await adapter.rebootInstance(vm.nativeId);
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED', 'down while rebooting');
    await until(async () => (await probe(url(vm, '/healthz'))).status === 200, 5000, 'serving after the reboot');
  });

  it('cuts keep-alive connections when it stops: a client holding one gets no answer from a stopped instance', async () => {
    const { adapter } = await sim();
    const vm = await launch(adapter);
    const agent = new Agent({ keepAlive: true });
    const viaAgent = () =>
      new Promise<number | string>((resolve) => {
        get(url(vm, '/healthz'), { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
    assert.equal(await viaAgent(), 200);
    await adapter.stopInstance(vm.nativeId);
    assert.notEqual(await viaAgent(), 200);
    agent.destroy();
  });

  it('refuses connections during an outage, for every workload of the provider, and serves again after it', async () => {
    const { adapter } = await sim();
    const vms = [await launch(adapter), await launch(adapter)];
    await put(vms[0]!, 'before', 'outage');
    await adapter.extensions.setFaults({ outage: true });
    for (const vm of vms) assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED');
    assert.equal(await errorCode(adapter.getInstance(vms[0]!.nativeId)), 'provider_unavailable');
    await adapter.extensions.setFaults({ outage: false });
    for (const vm of vms) assert.equal((await probe(url(vm, '/healthz'))).status, 200);
    assert.equal(await value(vms[0]!, 'before'), 'outage');
  });

  it('goes dark when its host process is killed, while the API still says running, until the host is started', async () => {
    const { adapter } = await sim();
    const vm = await launch(adapter);
    await put(vm, 'k', 'kept');
    const up = await adapter.extensions.workloadHost();
    assert.equal(up.state, 'up');
    assert.deepEqual(up.serving, [vm.nativeId]);
    // kill -9 from outside, as an operator or a chaos tool would.
    execFileSync('kill', ['-9', String(up.pid)]);
    await until(async () => (await adapter.extensions.workloadHost()).state === 'down', 5000, 'host seen down');
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED');
    assert.equal((await adapter.getInstance(vm.nativeId)).state, 'running', 'the control plane does not notice');
    // It stays down: further API calls do not bring it back by themselves.
    const other = await launch(adapter);
    assert.equal((await probe(url(other, '/healthz'))).error, 'ECONNREFUSED');
    const back = await adapter.extensions.startWorkloadHost();
    assert.equal(back.state, 'up');
    assert.notEqual(back.pid, up.pid);
    assert.equal(await value(vm, 'k'), 'kept');
    assert.equal((await probe(url(other, '/healthz'))).status, 200);
    const killed = await adapter.extensions.killWorkloadHost();
    assert.equal(killed.state, 'down');
    assert.equal(killed.lastExit?.signal, 'SIGKILL');
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED');
  });

  it('serves running workloads again after the adapter restarts, from their disks', async () => {
    const first = await sim();
    const vm = await launch(first.adapter);
    await put(vm, 'k', 'survives');
    await first.adapter.close();
    open.splice(open.indexOf(first.adapter), 1);
    assert.equal((await probe(url(vm, '/healthz'))).error, 'ECONNREFUSED', 'closing the adapter stops its host');
    const again = await createCloudAdapter({
      providerId: 'sim-w',
      settings: { latencyMs: 0, workload: { port, images: [{ id: WORKLOAD_IMAGE, name: 'kv-app' }] } },
      dataDir: first.dataDir,
      log: quiet,
    });
    open.push(again);
    assert.equal(await value(vm, 'k'), 'survives');
  });

  it('refuses a workload it cannot run, naming the image', async () => {
    const { adapter } = await sim();
    await adapter.setTags?.('image', 'img-debian-12', { 'sim:workload': 'wordpress' });
    await assert.rejects(launch(adapter, 'img-debian-12'), (e: { code: string; field: string; message: string }) => {
      assert.equal(e.code, 'invalid_input');
      assert.equal(e.field, 'imageId');
      assert.match(e.message, /wordpress/);
      return true;
    });
    const { stream, sizeBytes } = await adapter.downloadImage(WORKLOAD_IMAGE);
    const qcow = await adapter.uploadImage(
      { name: 'not-raw', diskFormat: 'qcow2', sizeBytes, tags: { 'sim:workload': 'kv' }, clientToken: `q-${++seq}` },
      stream,
    );
    assert.equal(await errorCode(launch(adapter, qcow.nativeId)), 'invalid_input');
    assert.equal((await adapter.listInstances()).items.length, 0, 'a refused launch leaves nothing behind');
  });
});

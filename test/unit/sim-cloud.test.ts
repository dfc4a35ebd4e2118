/** Sim-only behaviour: persistence, lazy transitions, quotas, throttling, fault injection and the load balancer. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { createCloudAdapter, createLoadBalancerAdapter, type SimCloudAdapter } from '../../adapters/sim/index.js';
import { isSkygateError, type SkygateError } from '../../src/core/errors.js';
import { errorCode, waitFor } from '../contract/cloud-adapter-contract.js';

const quiet = { info() {}, warn() {}, error() {} };
let dataDir: string;
const open: Array<{ close(): Promise<void> }> = [];
let seq = 0;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'skygate-sim-unit-'));
});
afterEach(async () => {
  mock.timers.reset();
  for (const a of open.splice(0)) await a.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function sim(settings: Record<string, unknown> = {}): Promise<SimCloudAdapter> {
  const adapter = await createCloudAdapter({
    providerId: 'sim-unit',
    settings: { latencyMs: 0, ...settings },
    dataDir,
    log: quiet,
  });
  open.push(adapter);
  return adapter;
}

const spec = (extra: Record<string, unknown> = {}) => ({
  name: `vm-${++seq}`,
  flavorId: 'sim.small',
  imageId: 'img-cirros-0-6',
  clientToken: `tok-${seq}`,
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<SkygateError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isSkygateError(e), `expected a SkygateError, got ${String(e)}`);
    return e;
  }
  return assert.fail('expected the call to fail');
}

describe('sim cloud', () => {
  it('seeds images backed by real sparse disk files', async () => {
    const a = await sim();
    const images = (await a.listImages()).items;
    assert.deepEqual(
      images.map((i) => i.nativeId),
      ['img-cirros-0-6', 'img-debian-12', 'img-ubuntu-22-04'],
    );
    assert.ok(images.every((i) => i.state === 'available' && i.diskFormat === 'raw' && i.sizeBytes === 64 * 1024 * 1024));
    const file = join(dataDir, 'disks', 'img-ubuntu-22-04.raw');
    assert.equal(statSync(file).size, 64 * 1024 * 1024);
    assert.ok(statSync(file).blocks * 512 < 1024 * 1024, 'the seed disk is sparse');
    assert.match(readFileSync(file).subarray(0, 40).toString('latin1'), /^SKYGATE SIM DISK ubuntu-22\.04\n/);
  });

  it('hands out EC2-shaped ids, private addresses and zones', async () => {
    const a = await sim();
    const vm = await a.createInstance(spec());
    assert.match(vm.nativeId, /^i-[0-9a-f]{17}$/);
    // A loopback address of the provider's own block (derived from its id when not configured).
    assert.match(vm.privateIp ?? '', /^127\.\d+\.\d+\.\d+$/);
    assert.deepEqual(await a.zones(), ['sim-unit-a', 'sim-unit-b']);
    const vol = await a.createVolume({ name: 'v', sizeGiB: 1, clientToken: 'v1' });
    assert.match(vol.nativeId, /^vol-[0-9a-f]{17}$/);
    const snap = await a.createSnapshot(vol.nativeId, { name: 's', clientToken: 's1' });
    assert.match(snap.nativeId, /^snap-[0-9a-f]{17}$/);
    const img = await a.createImageFromInstance(vm.nativeId, { name: 'cap', clientToken: 'c1' });
    assert.match(img.nativeId, /^img-[0-9a-f]{17}$/);
    const second = await a.createInstance(spec());
    assert.notEqual(second.privateIp, vm.privateIp);
  });

  it('hands out each address of its block once, reuses forgotten ones, and never two live instances one address', async () => {
    const a = await sim({ addressBlock: '127.50.0.0/24', terminatedRetentionMs: 0 });
    const made = [];
    for (let i = 0; i < 250; i++) made.push(await a.createInstance(spec()));
    const addresses = new Set(made.map((vm) => vm.privateIp));
    assert.equal(addresses.size, 250);
    assert.ok([...addresses].every((ip) => /^127\.50\.0\.(\d+)$/.test(ip ?? '')));
    const full = await rejection(a.createInstance(spec()));
    assert.equal(full.code, 'quota_exceeded');
    assert.match(full.message, /127\.50\.0\.0\/24/);
    await a.deleteInstance(made[7]!.nativeId);
    assert.equal((await a.createInstance(spec())).privateIp, made[7]!.privateIp, 'a forgotten address is free again');
    await a.close();
    // A larger block over the same addresses: the counter alone no longer promises a free one, so none is given twice.
    const b = await sim({ addressBlock: '127.50.0.0/23', terminatedRetentionMs: 0 });
    const next = await b.createInstance(spec());
    assert.ok(!addresses.has(next.privateIp), `${next.privateIp} is not one of the live instances' addresses`);
  });

  it('resolves transitions lazily after latencyMs', async () => {
    // The sim reads its clock from Date: a mocked one moves exactly to either side of the due time.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const a = await sim({ latencyMs: 60 });
    const vm = await a.createInstance(spec());
    assert.equal(vm.state, 'pending');
    assert.equal((await a.getInstance(vm.nativeId)).state, 'pending');
    assert.equal(
      (await rejection(a.createImageFromInstance(vm.nativeId, { name: 'early', clientToken: 'e1' }))).code,
      'conflict',
    );
    mock.timers.tick(59);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'pending', 'not before latencyMs');
    mock.timers.tick(1);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'running');
    const img = await a.createImageFromInstance(vm.nativeId, { name: 'cap', clientToken: 'c1' });
    assert.equal(img.state, 'pending');
    assert.equal((await rejection(a.downloadImage(img.nativeId))).code, 'conflict');
    await a.stopInstance(vm.nativeId);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'stopping');
  });

  it('behaves like EC2 on illegal or repeated actions', async () => {
    const a = await sim();
    const vm = await a.createInstance(spec());
    await a.startInstance(vm.nativeId); // running: no-op
    await a.stopInstance(vm.nativeId);
    await a.stopInstance(vm.nativeId); // stopped: no-op
    const reboot = await rejection(a.rebootInstance(vm.nativeId));
    assert.equal(reboot.code, 'conflict');
    assert.match(reboot.message, /stopped/);
    await a.deleteInstance(vm.nativeId);
    await a.deleteInstance(vm.nativeId); // terminated: no-op
    const start = await rejection(a.startInstance(vm.nativeId));
    assert.equal(start.code, 'conflict');
    assert.match(start.message, /terminated/);
    assert.equal((await a.getInstance(vm.nativeId)).privateIp, undefined);
  });

  it('suspends lazily like a stop (suspending, then suspended after latencyMs) and resumes on start', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const a = await sim({ latencyMs: 60 });
    assert.equal(a.capabilities().suspend, true);
    const vm = await a.createInstance(spec());
    const early = await rejection(a.suspendInstance(vm.nativeId));
    assert.equal(early.code, 'conflict', 'a pending instance cannot be suspended');
    assert.match(early.message, /pending/);
    mock.timers.tick(60);
    await a.suspendInstance(vm.nativeId);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'suspending');
    await a.suspendInstance(vm.nativeId); // suspending: no-op
    mock.timers.tick(59);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'suspending', 'not before latencyMs');
    mock.timers.tick(1);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'suspended');
    await a.suspendInstance(vm.nativeId); // suspended: no-op
    for (const [name, call] of [
      ['stop', () => a.stopInstance(vm.nativeId)],
      ['reboot', () => a.rebootInstance(vm.nativeId)],
      ['image', () => a.createImageFromInstance(vm.nativeId, { name: 'susp', clientToken: 's1' })],
    ] as const) {
      const err = await rejection(call());
      assert.equal(err.code, 'conflict', name);
      assert.match(err.message, /suspended/, name);
    }
    await a.startInstance(vm.nativeId);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'pending', 'a resume goes through pending, as a start');
    mock.timers.tick(60);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'running');
    await a.stopInstance(vm.nativeId);
    mock.timers.tick(60);
    const stopped = await rejection(a.suspendInstance(vm.nativeId));
    assert.equal(stopped.code, 'conflict', 'a stopped instance cannot be suspended');
    assert.match(stopped.message, /stopped/);
  });

  it('guards volumes: attach in-use, delete in-use, zone mismatch, snapshot restore size', async () => {
    const a = await sim();
    const vm = await a.createInstance(spec({ zone: 'sim-unit-a' }));
    const other = await a.createInstance(spec({ zone: 'sim-unit-a' }));
    const vol = await a.createVolume({ name: 'data', sizeGiB: 10, zone: 'sim-unit-a', clientToken: 'v1' });
    await a.attachVolume(vol.nativeId, vm.nativeId);
    const attached = await a.getVolume(vol.nativeId);
    assert.equal(attached.state, 'in-use');
    assert.equal(attached.device, '/dev/sdf');
    const again = await rejection(a.attachVolume(vol.nativeId, other.nativeId));
    assert.equal(again.code, 'conflict');
    assert.match(again.message, /in-use/);
    assert.equal((await rejection(a.deleteVolume(vol.nativeId))).code, 'conflict');
    const far = await a.createVolume({ name: 'far', sizeGiB: 1, zone: 'sim-unit-b', clientToken: 'v2' });
    assert.equal((await rejection(a.attachVolume(far.nativeId, vm.nativeId))).code, 'invalid_input');

    const snap = await a.createSnapshot(vol.nativeId, { name: 's', clientToken: 's1' });
    assert.equal(
      (await rejection(a.createVolume({ name: 'small', sizeGiB: 5, snapshotId: snap.nativeId, clientToken: 'v3' }))).field,
      'sizeGiB',
    );
    const restored = await a.createVolume({ name: 'restored', sizeGiB: 10, snapshotId: snap.nativeId, clientToken: 'v4' });
    assert.equal(restored.snapshotId, snap.nativeId);

    // Terminating the instance detaches its data volumes, which survive.
    await a.deleteInstance(vm.nativeId);
    const freed = await a.getVolume(vol.nativeId);
    assert.equal(freed.state, 'available');
    assert.equal(freed.attachedTo, undefined);
    await a.deleteVolume(vol.nativeId);
    assert.equal(await errorCode(a.getVolume(vol.nativeId)), 'not_found');
  });

  it('forgets terminated instances after terminatedRetentionMs', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const a = await sim({ terminatedRetentionMs: 50 });
    const vm = await a.createInstance(spec());
    await a.deleteInstance(vm.nativeId);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'terminated');
    mock.timers.tick(49);
    assert.equal((await a.getInstance(vm.nativeId)).state, 'terminated', 'kept for terminatedRetentionMs');
    mock.timers.tick(1);
    assert.equal(await errorCode(a.getInstance(vm.nativeId)), 'not_found');
    assert.deepEqual((await a.listInstances()).items, []);
  });

  it('validates create input with the field at fault', async () => {
    const a = await sim();
    assert.equal((await rejection(a.createInstance(spec({ flavorId: 'sim.huge' })))).field, 'flavorId');
    assert.equal((await rejection(a.createInstance(spec({ imageId: 'img-nope' })))).field, 'imageId');
    assert.equal((await rejection(a.createInstance(spec({ zone: 'mars-1' })))).field, 'zone');
    assert.equal(
      (await rejection(a.createInstance(spec({ flavorId: 'sim.small', imageId: 'img-ubuntu-22-04', name: '' })))).field,
      'name',
    );
    assert.equal((await rejection(a.listInstances({ limit: 0 }))).field, 'limit');
  });

  it('persists state across close and reopen, finishing in-flight transitions', async () => {
    const first = await sim({ latencyMs: 150 });
    const vm = await first.createInstance(spec({ tags: { env: 'prod' } }));
    const vol = await first.createVolume({ name: 'data', sizeGiB: 2, clientToken: 'v1' });
    await first.extensions.setFaults({ addedLatencyMs: 1 });
    await first.close();

    const second = await sim({ latencyMs: 150 });
    const reopened = await second.getInstance(vm.nativeId);
    assert.equal(reopened.state, 'pending');
    assert.deepEqual(reopened.tags, { env: 'prod' });
    assert.equal(reopened.privateIp, vm.privateIp);
    await waitFor(
      'instance running after reopen',
      () => second.getInstance(vm.nativeId).then((i) => i.state),
      (s) => s === 'running',
      2000,
    );
    assert.equal((await second.getVolume(vol.nativeId)).state, 'available');
    assert.equal((await second.extensions.getFaults()).addedLatencyMs, 1, 'faults survive a restart');
    const retried = await second.createInstance({ ...spec(), clientToken: `tok-${seq - 1}` });
    assert.equal(retried.nativeId, vm.nativeId, 'client tokens survive a restart');
  });

  it('enforces quotas with quota_exceeded, and frees them on delete', async () => {
    const a = await sim({ quotas: { instances: 2, vcpus: 2, volumes: 1, volumeGiB: 10 } });
    const one = await a.createInstance(spec());
    await a.createInstance(spec());
    assert.equal(await errorCode(a.createInstance(spec())), 'quota_exceeded');
    await a.deleteInstance(one.nativeId);
    assert.equal(
      await errorCode(a.createInstance(spec({ flavorId: 'sim.medium' }))),
      'quota_exceeded',
      '1 vCPU in use + 2 more > 2',
    );
    await a.createInstance(spec());
    assert.equal(await errorCode(a.createVolume({ name: 'big', sizeGiB: 11, clientToken: 'v0' })), 'quota_exceeded');
    await a.createVolume({ name: 'v', sizeGiB: 5, clientToken: 'v1' });
    assert.equal(await errorCode(a.createVolume({ name: 'v', sizeGiB: 1, clientToken: 'v2' })), 'quota_exceeded');
  });

  it('rebuilds quota usage on reopen', async () => {
    const first = await sim({ quotas: { instances: 1 } });
    await first.createInstance(spec());
    await first.close();
    const second = await sim({ quotas: { instances: 1 } });
    assert.equal(await errorCode(second.createInstance(spec())), 'quota_exceeded');
  });

  it('throttles beyond the rate limit with retryAfter', async () => {
    const a = await sim({ rateLimit: { requestsPerSecond: 2, burst: 3 } });
    for (let i = 0; i < 3; i++) await a.listFlavors();
    const err = await rejection(a.listFlavors());
    assert.equal(err.code, 'throttled');
    assert.ok(err.retryAfter !== undefined && err.retryAfter >= 1, `retryAfter ${err.retryAfter}`);
    assert.equal((await a.health()).status, 'up', 'health checks are not throttled');
    // The bucket refills on the monotonic clock (which mock timers do not move): wait for the token, not a guess.
    await waitFor(
      'a call let through once a token is back',
      () =>
        a.listFlavors().then(
          () => 'through',
          (e: SkygateError) => (e.code === 'throttled' ? 'throttled' : Promise.reject(e)),
        ),
      (outcome) => outcome === 'through',
      2_000,
    );
  });

  it('injects failures: errorRate 1 fails every call with a sim request id', async () => {
    const a = await sim({ faults: { errorRate: 1 } });
    const err = await rejection(a.listInstances());
    assert.equal(err.code, 'provider_unavailable');
    assert.match(err.requestId ?? '', /^sim-req-[0-9a-f]+$/);
    assert.equal(err.provider, 'sim-unit');
    assert.equal((await a.health()).status, 'degraded');
    assert.deepEqual(await a.extensions.setFaults({ errorRate: 0 }), { errorRate: 0, addedLatencyMs: 0, outage: false });
    await a.listInstances();
  });

  it('simulates an outage: every call fails and health is down until switched off', async () => {
    const a = await sim();
    await a.extensions.setFaults({ outage: true });
    for (const call of [a.listInstances(), a.getImage('img-cirros-0-6'), a.createInstance(spec()), a.listFlavors()]) {
      assert.equal(await errorCode(call), 'provider_unavailable');
    }
    assert.equal((await a.health()).status, 'down');
    assert.equal((await a.extensions.getFaults()).outage, true);
    await a.extensions.setFaults({ outage: false });
    assert.equal((await a.health()).status, 'up');
    await a.listInstances();
  });

  it('adds latency to every call, visible in health', async () => {
    const a = await sim();
    await a.extensions.setFaults({ addedLatencyMs: 80 });
    const started = performance.now();
    await a.getImage('img-debian-12');
    assert.ok(performance.now() - started >= 75, 'the call took the added latency');
    const health = await a.health();
    assert.ok((health.latencyMs ?? 0) >= 75, `health latency ${health.latencyMs}`);
  });

  it('rejects bad settings and fault patches, naming the setting', async () => {
    const bad = async (settings: Record<string, unknown>, field: string) => {
      const err = await rejection(createCloudAdapter({ providerId: 'sim-unit', settings, dataDir, log: quiet }));
      assert.equal(err.code, 'invalid_input');
      assert.equal(err.field, field);
      assert.ok(err.message.includes(field), err.message);
    };
    await bad({ latencyMs: -1 }, 'latencyMs');
    await bad({ zones: [] }, 'zones');
    await bad({ quotas: { instances: 1.5 } }, 'quotas.instances');
    await bad({ rateLimit: { requestsPerSecond: 0 } }, 'rateLimit.requestsPerSecond');
    await bad({ faults: { errorRate: 2 } }, 'faults.errorRate');
    await bad({ terminatedRetentionMs: 'soon' }, 'terminatedRetentionMs');
    const a = await sim();
    assert.equal((await rejection(a.extensions.setFaults({ outage: 'yes' }))).field, 'outage');
    assert.equal((await rejection(a.extensions.setFaults({ chaos: 1 }))).code, 'invalid_input');
  });

  it('captures carry the source bytes plus a stamp naming the instance', async () => {
    const a = await sim();
    const vm = await a.createInstance(spec());
    const img = await a.createImageFromInstance(vm.nativeId, { name: 'cap', clientToken: 'c1' });
    assert.equal(img.sourceInstanceId, vm.nativeId);
    const again = await a.createImageFromInstance(vm.nativeId, { name: 'cap', clientToken: 'c1' });
    assert.equal(again.nativeId, img.nativeId);
    const file = join(dataDir, 'disks', `${img.nativeId}.raw`);
    assert.ok(statSync(file).blocks * 512 < 4 * 1024 * 1024, 'the capture stays sparse');
    const bytes = readFileSync(file);
    assert.equal(bytes.length, 64 * 1024 * 1024);
    assert.match(bytes.subarray(0, 30).toString('latin1'), /^SKYGATE SIM DISK cirros-0\.6/);
    assert.ok(
      bytes
        .subarray(1024 * 1024, 1024 * 1024 + 200)
        .toString('latin1')
        .includes(`instance=${vm.nativeId}`),
    );
    await a.deleteImage(img.nativeId);
    assert.ok(!existsSync(file), 'deleting an image removes its disk');
  });

  it('streams uploads into sparse files and checks the declared size', async () => {
    const a = await sim();
    const source = await a.downloadImage('img-debian-12');
    const up = await a.uploadImage({ name: 'copy', diskFormat: 'raw', clientToken: 'u1' }, source.stream);
    assert.equal(up.sizeBytes, source.sizeBytes);
    assert.equal(up.state, 'available');
    const file = join(dataDir, 'disks', `${up.nativeId}.raw`);
    assert.ok(statSync(file).blocks * 512 < 4 * 1024 * 1024, 'the upload stays sparse');
    assert.ok(readFileSync(file).equals(readFileSync(join(dataDir, 'disks', 'img-debian-12.raw'))));
    const short = await rejection(
      a.uploadImage(
        { name: 'short', diskFormat: 'qcow2', sizeBytes: 10, clientToken: 'u2' },
        Readable.from([Buffer.from('abc')]),
      ),
    );
    assert.equal(short.field, 'sizeBytes');
  });
});

describe('sim load balancer', () => {
  const lb = async () => {
    const adapter = await createLoadBalancerAdapter({ providerId: 'sim-unit', settings: {}, dataDir, log: quiet });
    open.push(adapter);
    return adapter;
  };

  it('registers, lists, drains, maintains and deregisters targets, persisted', async () => {
    const first = await lb();
    assert.deepEqual(await first.listPools(), [{ id: 'default', name: 'default' }]);
    const target = await first.registerTarget('default', { address: '10.0.0.4', port: 8080 });
    assert.deepEqual(target, {
      id: '10.0.0.4:8080',
      address: '10.0.0.4',
      port: 8080,
      state: 'active',
      health: 'healthy',
      weight: 1,
    });
    await first.registerTarget('default', { address: '10.0.0.5', port: 8080, weight: 5 });
    await first.setTargetState('default', '10.0.0.4:8080', 'draining');
    await first.setTargetState('default', '10.0.0.5:8080', 'maintenance');
    assert.deepEqual(
      (await first.listTargets('default')).map((t) => [t.id, t.state, t.health]),
      [
        ['10.0.0.4:8080', 'draining', 'draining'],
        ['10.0.0.5:8080', 'maintenance', 'maintenance'],
      ],
    );
    await first.setTargetState('default', '10.0.0.5:8080', 'active');
    await first.extensions.setTargetHealth('default', '10.0.0.5:8080', 'unhealthy');
    await first.close();

    const second = await lb();
    const targets = await second.listTargets('default');
    assert.deepEqual(
      targets.map((t) => [t.id, t.state, t.health, t.weight]),
      [
        ['10.0.0.4:8080', 'draining', 'draining', 1],
        ['10.0.0.5:8080', 'active', 'unhealthy', 5],
      ],
    );
    await second.deregisterTarget('default', '10.0.0.4:8080');
    assert.deepEqual(
      (await second.listTargets('default')).map((t) => t.id),
      ['10.0.0.5:8080'],
    );
  });

  it('maps unknown pools, targets and bad input onto the taxonomy', async () => {
    const a = await lb();
    assert.equal(await errorCode(a.listTargets('nope')), 'not_found');
    assert.equal(await errorCode(a.deregisterTarget('default', '1.2.3.4:80')), 'not_found');
    assert.equal(await errorCode(a.registerTarget('default', { address: '1.2.3.4', port: 0 })), 'invalid_input');
    await a.registerTarget('default', { address: '1.2.3.4', port: 80 });
    assert.equal(await errorCode(a.setTargetState('default', '1.2.3.4:80', 'sleeping' as 'active')), 'invalid_input');
    assert.equal(
      await errorCode(a.registerTarget('default', { address: '1.2.3.5', port: 80, state: 'up' as 'active' })),
      'invalid_input',
    );
  });

  it('registers a target in the state asked for; registering it again changes only the weight', async () => {
    const a = await lb();
    const fenced = await a.registerTarget('default', { address: '127.10.0.4', port: 8000, state: 'maintenance', weight: 2 });
    assert.deepEqual([fenced.state, fenced.health, fenced.weight], ['maintenance', 'maintenance', 2]);
    const again = await a.registerTarget('default', { address: '127.10.0.4', port: 8000, state: 'active', weight: 4 });
    assert.deepEqual([again.state, again.weight], ['maintenance', 4]);
    await a.registerTarget('default', { address: '127.10.0.5', port: 8000 });
    assert.equal(
      await errorCode(a.setTargetAddress('default', '127.10.0.4:8000', { address: '127.10.0.5', port: 8000 })),
      'conflict',
    );
    const moved = await a.setTargetAddress('default', '127.10.0.4:8000', { address: '127.10.0.6', port: 8000 });
    assert.deepEqual([moved.id, moved.state, moved.weight], ['127.10.0.6:8000', 'maintenance', 4]);
  });
});

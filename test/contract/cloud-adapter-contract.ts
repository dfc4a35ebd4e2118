/** The behaviour every CloudAdapter owes the core, as node:test cases any adapter (sim, OpenStack, AWS) plugs into. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSkygateError, type ErrorCode } from '../../src/core/errors.js';
import type { CloudAdapter, NativeInstance, NativePage, PageRequest } from '../../src/core/ports.js';

export interface ContractTarget {
  adapter: CloudAdapter;
  /** A small flavor the account may launch several of. */
  flavorId: string;
  /** A bootable image that flavor can run. */
  imageId: string;
  /** ms budget for async transitions */
  timeoutMs: number;
  cleanup(): Promise<void>;
}

const HEALTH = ['up', 'degraded', 'down', 'unknown'];

/** Polls `read` until `done` holds for its value; fails with the last value seen when `timeoutMs` runs out. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const interval = Math.min(2000, Math.max(10, timeoutMs / 100));
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await sleep(interval);
  }
}

/** Resolves to the error code `promise` rejects with; fails when it resolves or throws something untyped. */
export async function errorCode(promise: Promise<unknown>): Promise<ErrorCode> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isSkygateError(e), `expected a SkygateError, got ${String(e)}`);
    return e.code;
  }
  return assert.fail('expected the call to fail');
}

/** Every item of a paginated listing, walking markers; fails if a marker repeats (a listing that loops). */
export async function walkPages<T>(list: (page: PageRequest) => Promise<NativePage<T>>, limit: number): Promise<T[][]> {
  const pages: T[][] = [];
  const markers = new Set<string>();
  let marker: string | undefined;
  do {
    const page = await list(marker === undefined ? { limit } : { limit, marker });
    assert.ok(page.items.length <= limit, `a page of limit ${limit} held ${page.items.length} items`);
    pages.push(page.items);
    marker = page.marker;
    if (marker !== undefined) {
      assert.ok(!markers.has(marker), `marker ${marker} came back twice`);
      markers.add(marker);
    }
  } while (marker !== undefined);
  return pages;
}

/** An id of the same shape as `id` that names nothing: its trailing hex run zeroed (i-0ab3... -> i-000...). */
export function unknownIdLike(id: string): string {
  const zeroed = id.replace(/[0-9a-f-]+$/i, (tail) => tail.replace(/[0-9a-f]/gi, '0'));
  return zeroed === id ? `${id}-missing` : zeroed;
}

async function sha256(stream: Readable): Promise<{ hash: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    h.update(buf);
    bytes += buf.length;
  }
  return { hash: h.digest('hex'), bytes };
}

export function runCloudAdapterContract(name: string, setup: () => Promise<ContractTarget>): void {
  describe(`CloudAdapter contract: ${name}`, () => {
    let t: ContractTarget;
    let a: CloudAdapter;
    // Unique per run, so a shared real account can tell this run's resources from anyone else's.
    const run = `contract-${randomBytes(4).toString('hex')}`;
    const made = {
      instances: new Set<string>(),
      images: new Set<string>(),
      volumes: new Set<string>(),
      snapshots: new Set<string>(),
    };
    let seq = 0;
    const token = () => `${run}-${++seq}`;

    const launch = async (extra: { tags?: Record<string, string>; zone?: string } = {}): Promise<NativeInstance> => {
      const vm = await a.createInstance({
        name: `${run}-vm-${seq + 1}`,
        flavorId: t.flavorId,
        imageId: t.imageId,
        clientToken: token(),
        tags: { 'skygate-contract': run, ...extra.tags },
        ...(extra.zone !== undefined && { zone: extra.zone }),
      });
      made.instances.add(vm.nativeId);
      return vm;
    };
    const instanceState = (id: string, ...states: string[]) =>
      waitFor(
        `instance ${id}`,
        () => a.getInstance(id).then((i) => i.state),
        (s) => states.includes(s),
        t.timeoutMs,
      );
    const running = async () => {
      const vm = await launch();
      await instanceState(vm.nativeId, 'running');
      return vm;
    };
    /** Whether a resource is gone: reading it is not_found or, where the provider keeps it listed, `state`. */
    const goneOr = async (read: () => Promise<{ state: string }>, ...states: string[]): Promise<boolean> => {
      try {
        return states.includes((await read()).state);
      } catch (e) {
        if (isSkygateError(e) && e.code === 'not_found') return true;
        throw e;
      }
    };
    const waitGone = (what: string, read: () => Promise<{ state: string }>, ...states: string[]) =>
      waitFor(what, () => goneOr(read, ...states), Boolean, t.timeoutMs);

    before(async () => {
      t = await setup();
      a = t.adapter;
    });

    // Best effort, newest dependants first, so a failed test leaves nothing billable behind on a real cloud.
    after(async () => {
      if (a === undefined) return;
      const quietly = (p: Promise<unknown>) => p.catch(() => undefined);
      for (const id of made.snapshots) await quietly(a.deleteSnapshot(id));
      for (const id of made.volumes) {
        await quietly(a.detachVolume(id));
        await quietly(waitGone(`volume ${id} detached`, () => a.getVolume(id), 'available', 'error'));
        await quietly(a.deleteVolume(id));
      }
      for (const id of made.images) await quietly(a.deleteImage(id));
      for (const id of made.instances) await quietly(a.deleteInstance(id));
      await t.cleanup();
    });

    it('describes itself: capabilities, zones, flavors, health', async () => {
      const caps = a.capabilities();
      for (const key of [
        'instances',
        'images',
        'snapshots',
        'volumes',
        'imageDownload',
        'imageUpload',
        'idempotentCreate',
        'suspend',
      ] as const) {
        assert.equal(typeof caps[key], 'boolean', `capabilities.${key}`);
      }
      if (caps.suspend) assert.equal(typeof a.suspendInstance, 'function', 'capability suspend comes with suspendInstance');
      assert.ok(Array.isArray(caps.extensions));
      const zones = await a.zones();
      assert.ok(zones.length > 0 && zones.every((z) => typeof z === 'string' && z.length > 0));
      const flavors = await a.listFlavors();
      const flavor = flavors.find((f) => f.nativeId === t.flavorId);
      assert.ok(flavor, `flavor ${t.flavorId} is listed`);
      assert.ok(flavor.vcpus > 0 && flavor.memoryMiB > 0);
      const health = await a.health();
      assert.ok(HEALTH.includes(health.status), `health status ${health.status}`);
      assert.ok(!Number.isNaN(Date.parse(health.checkedAt)), 'health.checkedAt is a timestamp');
      const image = await a.getImage(t.imageId);
      assert.equal(image.nativeId, t.imageId);
      assert.equal(image.state, 'available');
    });

    it('runs an instance through its lifecycle', async () => {
      const vm = await launch();
      assert.match(vm.nativeId, /\S/);
      assert.ok(['pending', 'running'].includes(vm.state), `a new instance is pending or running, not ${vm.state}`);
      assert.equal(vm.flavorId, t.flavorId);
      assert.equal(vm.imageId, t.imageId);
      assert.ok((await a.zones()).includes(vm.zone), `zone ${vm.zone} is one of zones()`);
      assert.ok(!Number.isNaN(Date.parse(vm.createdAt)));
      await instanceState(vm.nativeId, 'running');

      await a.stopInstance(vm.nativeId);
      await instanceState(vm.nativeId, 'stopped');

      await a.startInstance(vm.nativeId);
      await instanceState(vm.nativeId, 'running');

      await a.rebootInstance(vm.nativeId);
      await instanceState(vm.nativeId, 'running');

      await a.deleteInstance(vm.nativeId);
      await waitGone(`instance ${vm.nativeId} terminated`, () => a.getInstance(vm.nativeId), 'terminated');
    });

    it('suspends an instance and resumes it on start', async (ctx) => {
      if (!a.capabilities().suspend || !a.suspendInstance) return ctx.skip('adapter does not claim suspend');
      const vm = await running();
      await a.suspendInstance(vm.nativeId);
      await instanceState(vm.nativeId, 'suspended');
      await a.suspendInstance(vm.nativeId); // suspending a suspended instance changes nothing
      assert.equal((await a.getInstance(vm.nativeId)).state, 'suspended');
      await a.startInstance(vm.nativeId);
      await instanceState(vm.nativeId, 'running');
      await a.deleteInstance(vm.nativeId);
    });

    it('creates one instance per client token', async (ctx) => {
      if (!a.capabilities().idempotentCreate) return ctx.skip('adapter does not claim idempotentCreate');
      const spec = {
        name: `${run}-idem`,
        flavorId: t.flavorId,
        imageId: t.imageId,
        clientToken: token(),
        tags: { 'skygate-contract': run, idem: 'yes' },
      };
      const first = await a.createInstance(spec);
      made.instances.add(first.nativeId);
      const second = await a.createInstance(spec);
      made.instances.add(second.nativeId);
      assert.equal(second.nativeId, first.nativeId);
      const listed = (await walkPages((p) => a.listInstances(p), 1000))
        .flat()
        .filter((i) => i.tags.idem === 'yes' && i.tags['skygate-contract'] === run);
      assert.deepEqual(
        listed.map((i) => i.nativeId),
        [first.nativeId],
      );
    });

    it('keeps instance tags', async () => {
      const vm = await launch({ tags: { env: 'contract', team: 'gateway' } });
      assert.equal(vm.tags.env, 'contract');
      const read = await a.getInstance(vm.nativeId);
      assert.equal(read.tags.env, 'contract');
      assert.equal(read.tags.team, 'gateway');
      if (a.setTags) {
        await a.setTags('instance', vm.nativeId, { 'skygate-contract': run, env: 'changed' });
        const tags = await waitFor(
          `tags of ${vm.nativeId}`,
          () => a.getInstance(vm.nativeId).then((i) => i.tags),
          (tg) => tg.env === 'changed',
          t.timeoutMs,
        );
        assert.equal(tags['skygate-contract'], run);
      }
    });

    it('renames an instance in place, keeping its tags', async (ctx) => {
      if (!a.rename) return ctx.skip('adapter cannot rename');
      const vm = await launch({ tags: { env: 'rename' } });
      await a.rename('instance', vm.nativeId, `${run}-renamed`);
      const read = await waitFor(
        `name of ${vm.nativeId}`,
        () => a.getInstance(vm.nativeId),
        (i) => i.name === `${run}-renamed`,
        t.timeoutMs,
      );
      assert.equal(read.tags.env, 'rename');
    });

    it('captures a running instance into an available image', async (ctx) => {
      if (!a.capabilities().images) return ctx.skip('adapter has no images');
      const vm = await running();
      const image = await a.createImageFromInstance(vm.nativeId, {
        name: `${run}-capture`,
        clientToken: token(),
        tags: { 'skygate-contract': run },
      });
      made.images.add(image.nativeId);
      assert.ok(['pending', 'available'].includes(image.state), `a new image is pending or available, not ${image.state}`);
      const ready = await waitFor(
        `image ${image.nativeId}`,
        () => a.getImage(image.nativeId),
        (i) => i.state === 'available',
        t.timeoutMs,
      );
      assert.ok(ready.sizeBytes > 0, 'an available image has a size');
      if (ready.sourceInstanceId !== undefined) assert.equal(ready.sourceInstanceId, vm.nativeId);
      await a.deleteImage(image.nativeId);
      await waitGone(`image ${image.nativeId} deleted`, () => a.getImage(image.nativeId), 'deleted');
      made.images.delete(image.nativeId);
    });

    it('round-trips image bytes through download and upload', async (ctx) => {
      const caps = a.capabilities();
      if (!caps.imageDownload || !caps.imageUpload || !a.downloadImage || !a.uploadImage) {
        return ctx.skip('adapter cannot both download and upload images');
      }
      const original = await a.downloadImage(t.imageId);
      const want = await sha256(original.stream);
      assert.equal(want.bytes, original.sizeBytes, 'download size matches the bytes streamed');

      const source = await a.downloadImage(t.imageId);
      const uploaded = await a.uploadImage(
        {
          name: `${run}-upload`,
          diskFormat: source.diskFormat,
          sizeBytes: source.sizeBytes,
          clientToken: token(),
          tags: { 'skygate-contract': run },
        },
        source.stream,
      );
      made.images.add(uploaded.nativeId);
      const ready = await waitFor(
        `image ${uploaded.nativeId}`,
        () => a.getImage(uploaded.nativeId),
        (i) => i.state === 'available',
        t.timeoutMs,
      );
      assert.equal(ready.sizeBytes, original.sizeBytes);
      assert.equal(ready.diskFormat, original.diskFormat);

      const back = await a.downloadImage(uploaded.nativeId);
      assert.deepEqual(await sha256(back.stream), want, 'the uploaded image holds the same bytes');
    });

    it('creates, attaches, detaches, snapshots and deletes volumes', async (ctx) => {
      if (!a.capabilities().volumes) return ctx.skip('adapter has no volumes');
      const vm = await running();
      const vol = await a.createVolume({
        name: `${run}-vol`,
        sizeGiB: 1,
        zone: vm.zone,
        clientToken: token(),
        tags: { 'skygate-contract': run },
      });
      made.volumes.add(vol.nativeId);
      assert.equal(vol.sizeGiB, 1);
      assert.equal(vol.zone, vm.zone);
      assert.ok(['creating', 'available'].includes(vol.state), `a new volume is creating or available, not ${vol.state}`);
      const volumeState = (...states: string[]) =>
        waitFor(
          `volume ${vol.nativeId}`,
          () => a.getVolume(vol.nativeId),
          (v) => states.includes(v.state),
          t.timeoutMs,
        );
      await volumeState('available');

      await a.attachVolume(vol.nativeId, vm.nativeId);
      const attached = await volumeState('in-use');
      assert.equal(attached.attachedTo, vm.nativeId);

      if (a.capabilities().snapshots) {
        const snap = await a.createSnapshot(vol.nativeId, {
          name: `${run}-snap`,
          clientToken: token(),
          tags: { 'skygate-contract': run },
        });
        made.snapshots.add(snap.nativeId);
        assert.equal(snap.volumeId, vol.nativeId);
        const ready = await waitFor(
          `snapshot ${snap.nativeId}`,
          () => a.getSnapshot(snap.nativeId),
          (s) => s.state === 'available',
          t.timeoutMs,
        );
        assert.equal(ready.sizeGiB, 1);
        await a.deleteSnapshot(snap.nativeId);
        await waitGone(`snapshot ${snap.nativeId} deleted`, () => a.getSnapshot(snap.nativeId), 'deleted');
        made.snapshots.delete(snap.nativeId);
      }

      await a.detachVolume(vol.nativeId);
      const detached = await volumeState('available');
      assert.equal(detached.attachedTo, undefined);

      await a.deleteVolume(vol.nativeId);
      await waitGone(`volume ${vol.nativeId} deleted`, () => a.getVolume(vol.nativeId), 'deleted');
      made.volumes.delete(vol.nativeId);
    });

    it('renames a volume in place, keeping its size, zone and tags', async (ctx) => {
      if (!a.capabilities().volumes) return ctx.skip('adapter has no volumes');
      if (!a.rename) return ctx.skip('adapter cannot rename');
      const zone = (await a.zones())[0];
      const vol = await a.createVolume({
        name: `${run}-vol-before`,
        sizeGiB: 1,
        ...(zone !== undefined && { zone }),
        clientToken: token(),
        tags: { 'skygate-contract': run },
      });
      made.volumes.add(vol.nativeId);
      await a.rename('volume', vol.nativeId, `${run}-vol-after`);
      const read = await waitFor(
        `name of volume ${vol.nativeId}`,
        () => a.getVolume(vol.nativeId),
        (v) => v.name === `${run}-vol-after`,
        t.timeoutMs,
      );
      assert.equal(read.sizeGiB, 1);
      assert.equal(read.zone, vol.zone);
      assert.equal(read.tags['skygate-contract'], run);
      const listed = (await walkPages((p) => a.listVolumes(p), 100)).flat().find((v) => v.nativeId === vol.nativeId);
      assert.equal(listed?.name, `${run}-vol-after`, 'the listing shows the new name');
    });

    it('pages listings with markers, every item exactly once', async () => {
      const mine = new Set<string>();
      for (let i = 0; i < 5; i++) mine.add((await launch({ tags: { page: 'walk' } })).nativeId);
      const pages = await walkPages((p) => a.listInstances(p), 2);
      assert.ok(pages.length >= 3, `5 instances in pages of 2 take at least 3 pages, got ${pages.length}`);
      const all = pages.flat().map((i) => i.nativeId);
      assert.equal(new Set(all).size, all.length, 'no instance is listed twice');
      for (const id of mine) assert.ok(all.includes(id), `instance ${id} is listed`);

      if (a.capabilities().volumes) {
        const vols = new Set<string>();
        for (let i = 0; i < 3; i++) {
          const v = await a.createVolume({
            name: `${run}-page-${i}`,
            sizeGiB: 1,
            clientToken: token(),
            tags: { 'skygate-contract': run },
          });
          made.volumes.add(v.nativeId);
          vols.add(v.nativeId);
        }
        const listed = (await walkPages((p) => a.listVolumes(p), 2)).flat().map((v) => v.nativeId);
        assert.equal(new Set(listed).size, listed.length, 'no volume is listed twice');
        for (const id of vols) assert.ok(listed.includes(id), `volume ${id} is listed`);
      }
    });

    it('tells what changed since a token, ending where a full listing does (adapters offering listChanges)', async (ctx) => {
      const changes = a.listChanges?.bind(a);
      if (!changes) return ctx.skip('adapter does not offer listChanges (the inventory lists it in full)');
      const mine = (i: NativeInstance) => i.tags['skygate-contract'] === run && i.tags.changes === 'yes';
      const summary = (items: Iterable<NativeInstance>) =>
        [...items].map((i) => `${i.nativeId} ${i.state} ${JSON.stringify(i.tags)}`).sort();
      const fullListing = async () => (await walkPages((p) => a.listInstances(p), 1000)).flat().filter(mine);
      const first = await changes('instance', undefined, []);
      assert.equal(first.changes, undefined, 'without a token: list everything');
      let since = first.next;
      // The token is taken before the listing, so nothing made in between is missed.
      const view = new Map((await fullListing()).map((i) => [i.nativeId, i]));
      const stays = await launch({ tags: { changes: 'yes' } });
      const ends = await launch({ tags: { changes: 'yes' } });
      await instanceState(ends.nativeId, 'running');
      await a.deleteInstance(ends.nativeId);
      await a.setTags?.('instance', stays.nativeId, { 'skygate-contract': run, changes: 'yes', step: 'tagged' });
      await waitFor(
        'the view kept by changes to match a full listing',
        async () => {
          const answer = await changes('instance', since, []);
          assert.ok(answer.changes, 'a token this adapter answered is understood');
          for (const i of answer.changes.items) if (mine(i)) view.set(i.nativeId, i);
          for (const id of answer.changes.gone) view.delete(id);
          since = answer.next;
          return { kept: summary(view.values()), listed: summary(await fullListing()) };
        },
        (v) => JSON.stringify(v.kept) === JSON.stringify(v.listed) && v.kept.some((s) => s.includes('tagged')),
        t.timeoutMs,
      );
    });

    it('maps errors onto the taxonomy', async () => {
      const vm = await running();
      assert.equal(await errorCode(a.getInstance(unknownIdLike(vm.nativeId))), 'not_found');
      assert.equal(await errorCode(a.getImage(unknownIdLike(t.imageId))), 'not_found');
      assert.ok(
        ['invalid_input', 'not_found'].includes(
          await errorCode(
            a.createInstance({
              name: `${run}-bad`,
              flavorId: `${t.flavorId}-no-such-flavor`,
              imageId: t.imageId,
              clientToken: token(),
            }),
          ),
        ),
        'an unknown flavor is invalid_input or not_found',
      );
      assert.ok(
        ['invalid_input', 'not_found'].includes(
          await errorCode(
            a.createInstance({
              name: `${run}-bad`,
              flavorId: t.flavorId,
              imageId: unknownIdLike(t.imageId),
              clientToken: token(),
            }),
          ),
        ),
        'an unknown image is invalid_input or not_found',
      );

      await a.deleteInstance(vm.nativeId);
      const code = await errorCode(a.startInstance(vm.nativeId));
      // A provider that forgets deleted instances at once may only say not_found; one that still shows it must refuse.
      if (code === 'not_found')
        assert.ok(await goneOr(() => a.getInstance(vm.nativeId)), 'not_found only when the instance is gone');
      else assert.equal(code, 'conflict', 'starting a terminating instance is a conflict');
      await waitGone(`instance ${vm.nativeId} terminated`, () => a.getInstance(vm.nativeId), 'terminated');
      if ((await goneOr(() => a.getInstance(vm.nativeId))) === false) {
        assert.equal(await errorCode(a.startInstance(vm.nativeId)), 'conflict', 'starting a terminated instance is a conflict');
      }
    });
  });
}

/**
 * Read your own writes, on SQLite and PostgreSQL: once a mutation's operation has finished (REST), or once
 * the EC2 front has answered an action, the very next read through either front shows its effect. No sleep
 * stands between a write and the read that checks it; background refreshes run often (every 50 ms) so a
 * listing that began before a write gets every chance to overwrite it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateImageCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  type EC2ServiceException,
  type _InstanceType,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  CreateVolumeCommand,
  CreateSnapshotCommand,
  waitUntilInstanceRunning,
  waitUntilImageAvailable,
  waitUntilVolumeAvailable,
  waitUntilSnapshotCompleted,
} from '@aws-sdk/client-ec2';
import type { Image, Instance, Operation, Snapshot, Volume } from '../../src/core/model.js';
import { ec2ClientFor } from '../helpers/ec2-client.js';
import { simProviders, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freshSchema, type ScopedDatabase } from '../helpers/postgres-schema.js';

const postgresUrl = process.env.SKYGATE_TEST_DATABASE_URL;
const dialects: Array<{ name: string; url?: string }> = [
  { name: 'sqlite' },
  ...(postgresUrl ? [{ name: 'postgres', url: postgresUrl }] : []),
];

for (const dialect of dialects) {
  describe(`read your writes (${dialect.name})`, () => {
    let gw: TestGateway;
    let db: ScopedDatabase | undefined;
    let ec2: EC2Client;

    before(async () => {
      db = dialect.url ? await freshSchema(dialect.url) : undefined;
      gw = await startTestGateway({
        providers: simProviders(5),
        // A cache this short refreshes in the background on nearly every read: the race this suite is about.
        inventory: { maxAgeMs: 50 },
        ...(db && { env: { SKYGATE_DATABASE_URL: db.url } }),
      });
      ec2 = await ec2ClientFor(gw, 'sim-east');
    });
    after(async () => {
      ec2?.destroy();
      await gw?.close();
      await db?.drop();
    });

    const done = async (res: { status: number; body: Operation }): Promise<Operation> => {
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op = await gw.waitOperation(res.body.id, 30_000);
      assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
      return op;
    };
    const listed = async <T extends { id: string }>(path: string, id: string): Promise<T | undefined> =>
      ((await gw.api('get', path)).body.items as T[]).find((r) => r.id === id);
    const enc = encodeURIComponent;

    it('REST: every finished operation is visible in the next listing and read', async () => {
      const create = await done(
        await gw.api('post', '/v1/instances', {
          provider: 'sim-east',
          name: 'ryw',
          flavorId: 'sim.small',
          imageId: 'img-ubuntu-22-04',
        }),
      );
      const vm = String(create.result?.resourceId);
      assert.equal((await listed<Instance>('/v1/instances?provider=sim-east&limit=1000', vm))?.state, 'running');

      await done(await gw.api('post', `/v1/instances/${enc(vm)}/stop`));
      assert.equal((await listed<Instance>('/v1/instances?provider=sim-east&limit=1000', vm))?.state, 'stopped');
      await done(await gw.api('post', `/v1/instances/${enc(vm)}/start`));
      assert.equal((await listed<Instance>('/v1/instances?provider=sim-east&limit=1000', vm))?.state, 'running');

      const image = String(
        (await done(await gw.api('post', `/v1/instances/${enc(vm)}/snapshot`, { name: 'ryw-image' }))).result?.resourceId,
      );
      assert.equal((await listed<Image>('/v1/images?provider=sim-east&limit=1000', image))?.state, 'available');
      await done(await gw.api('delete', `/v1/images/${enc(image)}`));
      const gone = await listed<Image>('/v1/images?provider=sim-east&limit=1000', image);
      assert.ok(gone === undefined || gone.state === 'deleted', `deleted image still listed as ${gone?.state}`);

      const zone = (await gw.api('get', `/v1/instances/${enc(vm)}`)).body.zone;
      const vol = String(
        (await done(await gw.api('post', '/v1/volumes', { provider: 'sim-east', name: 'ryw-vol', sizeGiB: 1, zone }))).result
          ?.resourceId,
      );
      assert.equal((await listed<Volume>('/v1/volumes?provider=sim-east&limit=1000', vol))?.state, 'available');
      await done(await gw.api('post', `/v1/volumes/${enc(vol)}/attach`, { instanceId: vm }));
      const attached = await listed<Volume>('/v1/volumes?provider=sim-east&limit=1000', vol);
      assert.deepEqual([attached?.state, attached?.attachedTo], ['in-use', vm]);
      await done(await gw.api('post', `/v1/volumes/${enc(vol)}/detach`));
      assert.equal((await listed<Volume>('/v1/volumes?provider=sim-east&limit=1000', vol))?.state, 'available');

      const snap = String(
        (await done(await gw.api('post', '/v1/snapshots', { volumeId: vol, name: 'ryw-snap' }))).result?.resourceId,
      );
      assert.equal((await listed<Snapshot>('/v1/snapshots?provider=sim-east&limit=1000', snap))?.state, 'available');
      await done(await gw.api('delete', `/v1/snapshots/${enc(snap)}`));
      const snapGone = await listed<Snapshot>('/v1/snapshots?provider=sim-east&limit=1000', snap);
      assert.ok(snapGone === undefined || snapGone.state === 'deleted', `deleted snapshot listed as ${snapGone?.state}`);
      await done(await gw.api('delete', `/v1/volumes/${enc(vol)}`));
      const volGone = await listed<Volume>('/v1/volumes?provider=sim-east&limit=1000', vol);
      assert.ok(volGone === undefined || volGone.state === 'deleted', `deleted volume listed as ${volGone?.state}`);

      await done(await gw.api('delete', `/v1/instances/${enc(vm)}`));
      const ended = await listed<Instance>('/v1/instances?provider=sim-east&limit=1000', vm);
      assert.ok(ended === undefined || ended.state === 'terminated', `terminated instance listed as ${ended?.state}`);
    });

    it('EC2: what an action answered is what the next Describe shows', async () => {
      const waiter = { client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1 };
      const image = (await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['ubuntu-22.04'] }] })))
        .Images?.[0]?.ImageId;
      const run = await ec2.send(
        new RunInstancesCommand({ ImageId: image, InstanceType: 'sim.small' as _InstanceType, MinCount: 1, MaxCount: 1 }),
      );
      const id = run.Instances?.[0]?.InstanceId as string;
      const zone = run.Instances?.[0]?.Placement?.AvailabilityZone as string;
      const stateOf = async () =>
        (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
      assert.ok(['pending', 'running'].includes(String(await stateOf())));
      await waitUntilInstanceRunning(waiter, { InstanceIds: [id] });

      const created = await ec2.send(new CreateImageCommand({ InstanceId: id, Name: 'ryw-ec2-image' }));
      await waitUntilImageAvailable(waiter, { ImageIds: [created.ImageId as string] });
      await ec2.send(new DeregisterImageCommand({ ImageId: created.ImageId }));
      const after = await ec2
        .send(new DescribeImagesCommand({ ImageIds: [created.ImageId as string] }))
        .then((r) => r.Images?.map((i) => i.State) ?? [])
        .catch((e: EC2ServiceException) => [e.name]);
      assert.ok(!after.includes('available'), `a deregistered image still reads as ${after.join(',')}`);

      const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: zone, Size: 1 }));
      await waitUntilVolumeAvailable(waiter, { VolumeIds: [vol.VolumeId as string] });
      const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
      await waitUntilSnapshotCompleted(waiter, { SnapshotIds: [snap.SnapshotId as string] });
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snap.SnapshotId }));
      const snapAfter = await ec2
        .send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'snapshot-id', Values: [snap.SnapshotId as string] }] }))
        .then((r) => r.Snapshots?.map((s) => s.State) ?? []);
      assert.deepEqual(snapAfter, [], 'a deleted snapshot is no longer described');
      await ec2.send(new DeleteVolumeCommand({ VolumeId: vol.VolumeId }));
      const volAfter = await ec2
        .send(new DescribeVolumesCommand({ Filters: [{ Name: 'volume-id', Values: [vol.VolumeId as string] }] }))
        .then((r) => r.Volumes?.map((v) => v.State) ?? []);
      assert.ok(!volAfter.includes('available'), `a deleted volume still reads as ${volAfter.join(',')}`);

      const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      const answered = stop.StoppingInstances?.[0]?.CurrentState?.Name;
      assert.equal(answered, 'stopping');
      assert.ok(['stopping', 'stopped'].includes(String(await stateOf())), 'a stop just answered reads as stopping or stopped');
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      assert.ok(['shutting-down', 'terminated'].includes(String(await stateOf())));
    });
  });
}

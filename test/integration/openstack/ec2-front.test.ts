/**
 * The EC2 front with the local OpenStack behind it (region `os`): the real AWS SDK walks a server's life
 * (run, describe, image, volume, stop, start, terminate) and Debian's AWS CLI lists and refuses, as a
 * tenant's EC2 tooling would, unchanged.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import {
  AttachVolumeCommand,
  CreateImageCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeRegionsCommand,
  DetachVolumeCommand,
  EC2Client,
  type Instance,
  type _InstanceType,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilVolumeAvailable,
  waitUntilVolumeInUse,
} from '@aws-sdk/client-ec2';
import { AWS, type AwsCli, awsCli } from '../../helpers/aws-cli.js';
import { simProviders, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { baseImage, openstackProvider, TINY_FLAVOR, tenantAdapter } from './openstack-env.js';

const REGION = 'os';
const run = randomUUID().slice(0, 8);
let gw: TestGateway;
let ec2: EC2Client;
let cli: AwsCli;

/** Debian's AWS CLI against the gateway, region `os`: exit code and output, never a throw. */
const aws = (args: string[]) => cli.ec2(args, { timeoutMs: 120_000 });

/** The SDK's waiters, polling every 2 s for up to 3 minutes (nova's fake driver is quick; the machine may not be). */
const waitOpts = () => ({ client: ec2, maxWaitTime: 180, minDelay: 2, maxDelay: 2 });

before(async () => {
  assert.ok(existsSync(AWS), `${AWS} is missing: install Debian's awscli package`);
  await baseImage(await tenantAdapter());
  gw = await startTestGateway({ providers: [...simProviders(20).slice(0, 1), openstackProvider(REGION)] });
  cli = await awsCli(gw, 'ec2-on-openstack', REGION);
  ec2 = new EC2Client({ endpoint: `${gw.url}/ec2`, region: REGION, credentials: cli.credentials, maxAttempts: 1 });
});

after(async () => {
  ec2?.destroy();
  await gw?.close();
});

it('the AWS SDK runs, images, attaches, stops, starts and terminates a server on OpenStack', { timeout: 900_000 }, async () => {
  const regions = await ec2.send(new DescribeRegionsCommand({}));
  assert.ok(regions.Regions?.some((r) => r.RegionName === REGION));
  const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}));
  assert.deepEqual(
    zones.AvailabilityZones?.map((z) => z.ZoneName),
    ['nova'],
  );
  const tiny = TINY_FLAVOR as _InstanceType;
  const types = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [tiny] }));
  assert.equal(types.InstanceTypes?.[0]?.MemoryInfo?.SizeInMiB, 512);
  const images = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['skygate-it-base'] }] }));
  const imageId = images.Images?.[0]?.ImageId as string;
  assert.match(imageId, /^ami-[0-9a-f]{17}$/, JSON.stringify(images.Images));

  const launched = await ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: tiny,
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: `ec2-os-${run}` }] }],
    }),
  );
  const instanceId = launched.Instances?.[0]?.InstanceId as string;
  assert.match(instanceId, /^i-[0-9a-f]{17}$/);
  await waitUntilInstanceRunning(waitOpts(), { InstanceIds: [instanceId] });
  const byName = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: [`ec2-os-${run}`] }] }));
  const found = byName.Reservations?.flatMap((r) => r.Instances ?? []) as Instance[];
  assert.deepEqual(
    found.map((i) => [i.InstanceId, i.State?.Name, i.InstanceType, i.ImageId, i.Placement?.AvailabilityZone]),
    [[instanceId, 'running', TINY_FLAVOR, imageId, 'nova']],
  );
  // the same server through the REST API, on the OpenStack provider
  const rest = await gw.api('get', `/v1/instances?provider=${REGION}&tag=Name=ec2-os-${run}&fresh=true`);
  assert.equal(rest.body.items.length, 1);

  const image = await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: `ec2-os-${run}-backup` }));
  const backupId = image.ImageId as string;
  await waitUntilImageAvailable(waitOpts(), { ImageIds: [backupId] });

  const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'nova', Size: 1 }));
  const volumeId = volume.VolumeId as string;
  await waitUntilVolumeAvailable(waitOpts(), { VolumeIds: [volumeId] });
  await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: '/dev/vdb' }));
  await waitUntilVolumeInUse(waitOpts(), { VolumeIds: [volumeId] });
  await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId }));
  await waitUntilVolumeAvailable(waitOpts(), { VolumeIds: [volumeId] });
  await ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));

  await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceStopped(waitOpts(), { InstanceIds: [instanceId] });
  await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceRunning(waitOpts(), { InstanceIds: [instanceId] });

  // the AWS CLI sees the same server, and a bad instance type is refused with EC2's code, creating nothing
  const listed = await aws(['describe-instances', '--filters', `Name=tag:Name,Values=ec2-os-${run}`]);
  assert.equal(listed.code, 0, listed.stderr);
  const cliInstances = (JSON.parse(listed.stdout) as { Reservations: Array<{ Instances: Instance[] }> }).Reservations.flatMap(
    (r) => r.Instances,
  );
  assert.deepEqual(
    cliInstances.map((i) => [i.InstanceId, i.State?.Name]),
    [[instanceId, 'running']],
  );
  const before = (await gw.api('get', `/v1/instances?provider=${REGION}&fresh=true&limit=1000`)).body.items.length;
  const refused = await aws(['run-instances', '--image-id', imageId, '--instance-type', 'no.such.type', '--count', '1']);
  assert.equal(refused.code, 254, refused.stderr);
  assert.match(refused.stderr, /InvalidParameterValue.*no\.such\.type/s);
  const afterCount = (await gw.api('get', `/v1/instances?provider=${REGION}&fresh=true&limit=1000`)).body.items.length;
  assert.equal(afterCount, before, 'a refused run-instances creates nothing');

  // nova forgets a deleted server at once; the adapter still shows it as terminated, so EC2's waiter ends
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceTerminated(waitOpts(), { InstanceIds: [instanceId] });
  const terminated = await ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['terminated'] }] }),
  );
  assert.ok(terminated.Reservations?.some((r) => r.Instances?.some((i) => i.InstanceId === instanceId)));
  await ec2.send(new DeregisterImageCommand({ ImageId: backupId }));
  // deregistering is asynchronous: the image reads `deregistered`, then is gone
  for (const deadline = Date.now() + 120_000; ; await sleep(2000)) {
    const left = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: [backupId] }] }));
    if ((left.Images ?? []).every((i) => i.State === 'deregistered')) break;
    assert.ok(Date.now() < deadline, `image ${backupId} still ${JSON.stringify(left.Images?.map((i) => i.State))}`);
  }
});

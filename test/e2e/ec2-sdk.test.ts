/**
 * The EC2 front end to end with the real AWS SDK (@aws-sdk/client-ec2) against a real gateway on
 * 127.0.0.1: the walk an EC2 management tool takes, pagination, idempotency, roles, regions, and the
 * bad-input list, each error checked for EC2's code and for having created nothing.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import {
  AttachVolumeCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteKeyPairCommand,
  DeleteSnapshotCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeAccountAttributesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceStatusCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  DetachVolumeCommand,
  EC2Client,
  ImportKeyPairCommand,
  type Instance,
  type _InstanceType,
  ModifyInstanceAttributeCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilSnapshotCompleted,
  waitUntilVolumeAvailable,
  waitUntilVolumeInUse,
} from '@aws-sdk/client-ec2';
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { checkEc2Xml, findEc2Model, loadEc2Model } from '../helpers/ec2-model.js';
import { type Ec2Credentials, rawEc2 } from '../helpers/ec2-signer.js';
import { ec2Error } from '../helpers/ec2-errors-of.js';

/** skygate's instance types are its flavors, which the SDK's enum of AWS types does not list. */
const SIM_SMALL = 'sim.small' as _InstanceType;
const SIM_MEDIUM = 'sim.medium' as _InstanceType;

let gw: TestGateway;
let operator: Ec2Credentials;
let viewer: Ec2Credentials;
const clients: EC2Client[] = [];

function client(creds: Ec2Credentials, region = 'sim-east'): EC2Client {
  const c = new EC2Client({ endpoint: `${gw.url}/ec2`, region, credentials: creds, maxAttempts: 1 });
  clients.push(c);
  return c;
}

async function issueKey(body: Record<string, unknown>, token = ADMIN_TOKEN): Promise<Ec2Credentials> {
  const res = await gw.api('post', '/v1/access-keys', body, token);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { accessKeyId: res.body.accessKeyId, secretAccessKey: res.body.secretAccessKey };
}

/** Every instance skygate knows of, through the REST API: the "nothing was created" check. */
async function instanceCount(): Promise<number> {
  const res = await gw.api('get', '/v1/instances?limit=1000&fresh=true');
  return res.body.items.length as number;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not true after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const waitOpts = () => ({ client: client(operator), maxWaitTime: 30, minDelay: 1, maxDelay: 1 });

function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const sshString = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(b.length);
    return Buffer.concat([length, b]);
  };
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} test@skygate`;
}

before(async () => {
  gw = await startTestGateway();
  operator = await issueKey({ name: 'tool', role: 'operator' });
  viewer = await issueKey({ name: 'dashboard', role: 'viewer' });
});
after(async () => {
  for (const c of clients) c.destroy();
  await gw.close();
});

describe('a management tool, end to end', () => {
  it('probes the network, launches, finds by Name, images, attaches, snapshots, stops, starts and terminates', async () => {
    const ec2 = client(operator);
    const regions = await ec2.send(new DescribeRegionsCommand({}));
    assert.deepEqual(
      regions.Regions?.map((r) => r.RegionName),
      ['sim-east', 'sim-west'],
    );
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    assert.deepEqual(
      zones.AvailabilityZones?.map((z) => z.ZoneName),
      ['sim-east-a', 'sim-east-b'],
    );
    const attrs = await ec2.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));

    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }));
    assert.equal(vpcs.Vpcs?.length, 1);
    const vpcId = vpcs.Vpcs?.[0]?.VpcId as string;
    assert.match(vpcId, /^vpc-[0-9a-f]{17}$/);
    assert.equal(attrs.AccountAttributes?.[0]?.AttributeValues?.[0]?.AttributeValue, vpcId);
    const subnets = await ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'default-for-az', Values: ['true'] },
          { Name: 'availability-zone', Values: ['sim-east-b'] },
        ],
      }),
    );
    assert.equal(subnets.Subnets?.length, 1);
    const subnet = subnets.Subnets?.[0];
    assert.equal(subnet?.AvailabilityZone, 'sim-east-b');
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['default'] }] }));
    const groupId = groups.SecurityGroups?.[0]?.GroupId as string;
    assert.match(groupId, /^sg-[0-9a-f]{17}$/);
    const types = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [SIM_SMALL] }));
    assert.equal(types.InstanceTypes?.[0]?.VCpuInfo?.DefaultVCpus, 1);

    const images = await ec2.send(
      new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['ubuntu-*'] }] }),
    );
    const imageId = images.Images?.[0]?.ImageId as string;
    assert.match(imageId, /^ami-[0-9a-f]{17}$/);
    const key = await ec2.send(new ImportKeyPairCommand({ KeyName: 'deploy', PublicKeyMaterial: Buffer.from(sshPublicKey()) }));
    assert.match(key.KeyFingerprint ?? '', /^[A-Za-z0-9+/]{43}=$/);

    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        InstanceType: SIM_SMALL,
        MinCount: 1,
        MaxCount: 1,
        KeyName: 'deploy',
        SubnetId: subnet?.SubnetId,
        SecurityGroupIds: [groupId],
        UserData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'),
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'tool-web-1' }] }],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId as string;
    assert.match(instanceId, /^i-[0-9a-f]{17}$/, 'RunInstances answers the id at once');
    assert.equal(run.Instances?.[0]?.Placement?.AvailabilityZone, 'sim-east-b', 'the subnet chose the zone');
    await waitUntilInstanceRunning(waitOpts(), { InstanceIds: [instanceId] });

    const byName = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['tool-web-1'] }] }));
    const found = byName.Reservations?.flatMap((r) => r.Instances ?? []) as Instance[];
    assert.deepEqual(
      found.map((i) => i.InstanceId),
      [instanceId],
    );
    const vm = found[0] as Instance;
    assert.equal(vm.State?.Name, 'running');
    assert.equal(vm.KeyName, 'deploy');
    assert.equal(vm.SubnetId, subnet?.SubnetId);
    assert.equal(vm.VpcId, vpcId);
    assert.deepEqual(
      vm.SecurityGroups?.map((g) => g.GroupId),
      [groupId],
    );
    for (const Filters of [
      [{ Name: 'subnet-id', Values: [subnet?.SubnetId as string] }],
      [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'availability-zone', Values: ['sim-east-b'] },
      ],
      [
        { Name: 'instance-state-name', Values: ['pending', 'running'] },
        { Name: 'image-id', Values: [imageId] },
      ],
      [
        { Name: 'instance-type', Values: ['sim.small'] },
        { Name: 'tag-key', Values: ['Name'] },
      ],
    ]) {
      const r = await ec2.send(new DescribeInstancesCommand({ Filters }));
      assert.ok(
        r.Reservations?.some((res) => res.Instances?.some((i) => i.InstanceId === instanceId)),
        JSON.stringify(Filters),
      );
    }
    const none = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'availability-zone', Values: ['sim-east-a'] },
          { Name: 'tag:Name', Values: ['tool-*'] },
        ],
      }),
    );
    assert.equal(none.Reservations?.length, 0, 'filters select');
    const userData = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }));
    assert.equal(Buffer.from(userData.UserData?.Value ?? '', 'base64').toString(), '#!/bin/sh\necho hi\n');
    const status = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [instanceId] }));
    assert.equal(status.InstanceStatuses?.[0]?.InstanceStatus?.Status, 'ok');

    const image = await ec2.send(
      new CreateImageCommand({
        InstanceId: instanceId,
        Name: 'tool-web-1 backup',
        TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'app', Value: 'tool' }] }],
      }),
    );
    const newImage = image.ImageId as string;
    assert.match(newImage, /^ami-[0-9a-f]{17}$/);
    await waitUntilImageAvailable(waitOpts(), { ImageIds: [newImage] });
    const described = await ec2.send(new DescribeImagesCommand({ ImageIds: [newImage] }));
    assert.equal(described.Images?.[0]?.Name, 'tool-web-1 backup');
    assert.deepEqual(described.Images?.[0]?.Tags, [{ Key: 'app', Value: 'tool' }]);
    const bdm = await ec2.send(new DescribeImageAttributeCommand({ ImageId: newImage, Attribute: 'blockDeviceMapping' }));
    assert.equal(bdm.BlockDeviceMappings?.[0]?.DeviceName, '/dev/xvda');

    const volume = await ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: 'sim-east-b',
        Size: 2,
        TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'data' }] }],
      }),
    );
    const volumeId = volume.VolumeId as string;
    assert.match(volumeId, /^vol-[0-9a-f]{17}$/);
    await waitUntilVolumeAvailable(waitOpts(), { VolumeIds: [volumeId] });
    const attach = await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: '/dev/sdf' }));
    assert.equal(attach.State, 'attaching');
    await waitUntilVolumeInUse(waitOpts(), { VolumeIds: [volumeId] });
    // As on EC2, a volume is in-use while its attachment is still attaching; a tool waits for `attached`.
    await eventually(async () => {
      const v = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
      return v.Volumes?.[0]?.Attachments?.[0]?.State === 'attached';
    });
    const withVolume = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    assert.deepEqual(
      withVolume.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings?.map((b) => [
        b.DeviceName,
        b.Ebs?.VolumeId,
        b.Ebs?.Status,
      ]),
      [['/dev/sdf', volumeId, 'attached']],
    );
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId, Description: 'nightly' }));
    assert.match(snap.SnapshotId ?? '', /^snap-[0-9a-f]{17}$/);
    await waitUntilSnapshotCompleted(waitOpts(), { SnapshotIds: [snap.SnapshotId as string] });
    const snaps = await ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [volumeId] }] }),
    );
    assert.deepEqual(
      snaps.Snapshots?.map((s) => [s.SnapshotId, s.Description, s.State]),
      [[snap.SnapshotId, 'nightly', 'completed']],
    );

    const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    assert.deepEqual(
      [stop.StoppingInstances?.[0]?.PreviousState?.Name, stop.StoppingInstances?.[0]?.CurrentState?.Name],
      ['running', 'stopping'],
    );
    await waitUntilInstanceStopped(waitOpts(), { InstanceIds: [instanceId] });
    const start = await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(start.StartingInstances?.[0]?.CurrentState?.Name, 'pending');
    await waitUntilInstanceRunning(waitOpts(), { InstanceIds: [instanceId] });
    await ec2.send(new RebootInstancesCommand({ InstanceIds: [instanceId] }));

    // Termination protection holds for every front: EC2 and REST both refuse, until it is turned off.
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: true } }));
    const protectedErr = await ec2Error(ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
    assert.equal(protectedErr.code, 'OperationNotPermitted');
    const skygateId = `sim-east:${(await gw.api('get', `/v1/instances?tag=Name=tool-web-1`)).body.items[0].nativeId}`;
    const rest = await gw.api('delete', `/v1/instances/${encodeURIComponent(skygateId)}`);
    assert.equal(rest.status, 409);
    assert.match(rest.body.detail, /termination protection/);
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination', Value: 'false' }),
    );

    await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId }));
    await waitUntilVolumeAvailable(waitOpts(), { VolumeIds: [volumeId] });
    const term = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(term.TerminatingInstances?.[0]?.CurrentState?.Name, 'shutting-down');
    await waitUntilInstanceTerminated(waitOpts(), { InstanceIds: [instanceId] });
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snap.SnapshotId }));
    await ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
    await ec2.send(new DeregisterImageCommand({ ImageId: newImage, DeleteAssociatedSnapshots: true }));
    await ec2.send(new DeleteKeyPairCommand({ KeyName: 'deploy' }));
    assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs, []);
  });
});

describe('instances', () => {
  let imageId: string;
  before(async () => {
    const images = await client(operator).send(
      new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['cirros-0.6'] }] }),
    );
    imageId = images.Images?.[0]?.ImageId as string;
  });

  it('answers a repeated ClientToken with the same instances, and refuses it for another request', async () => {
    const ec2 = client(operator);
    const before = await instanceCount();
    const input = { ImageId: imageId, InstanceType: SIM_SMALL, MinCount: 2, MaxCount: 2, ClientToken: 'retry-me-1' };
    const first = await ec2.send(new RunInstancesCommand(input));
    const second = await ec2.send(new RunInstancesCommand(input));
    assert.equal(first.Instances?.length, 2);
    assert.deepEqual(
      second.Instances?.map((i) => i.InstanceId),
      first.Instances?.map((i) => i.InstanceId),
    );
    assert.equal(second.ReservationId, first.ReservationId);
    assert.equal(await instanceCount(), before + 2);
    const mismatch = await ec2Error(ec2.send(new RunInstancesCommand({ ...input, InstanceType: SIM_MEDIUM })));
    assert.equal(mismatch.code, 'IdempotentParameterMismatch');
    assert.equal(await instanceCount(), before + 2);
    const reservations = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: first.Instances?.map((i) => i.InstanceId as string) }),
    );
    assert.equal(reservations.Reservations?.length, 1, 'one launch is one reservation');
    assert.deepEqual(reservations.Reservations?.[0]?.Instances?.map((i) => i.AmiLaunchIndex).sort(), [0, 1]);
  });

  it('pages with MaxResults and NextToken, and refuses a token from another query', async () => {
    const ec2 = client(operator);
    await ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        MinCount: 6,
        MaxCount: 6,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'batch', Value: 'paging' }] }],
      }),
    );
    const Filters = [{ Name: 'tag:batch', Values: ['paging'] }];
    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 5, NextToken }));
      const ids = page.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId as string) ?? []) ?? [];
      if (page.NextToken) assert.equal(ids.length, 5, 'pages stay full while more follow');
      seen.push(...ids);
      NextToken = page.NextToken;
      if (pages++ === 0) {
        const other = await ec2Error(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken })));
        assert.equal(other.code, 'InvalidPaginationToken');
      }
    } while (NextToken);
    assert.equal(pages, 2);
    assert.equal(new Set(seen).size, 6);
    for (const MaxResults of [4, 1001]) {
      const err = await ec2Error(ec2.send(new DescribeInstancesCommand({ MaxResults })));
      assert.equal(err.code, 'InvalidParameterValue');
    }
    const both = await ec2Error(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [seen[0] as string] })));
    assert.equal(both.code, 'InvalidParameterCombination');
  });

  it('keeps regions apart: an instance of sim-east is unknown to sim-west', async () => {
    const east = client(operator, 'sim-east');
    const west = client(operator, 'sim-west');
    const run = await east.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 }));
    const id = run.Instances?.[0]?.InstanceId as string;
    const err = await ec2Error(west.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
    assert.equal(err.code, 'InvalidInstanceID.NotFound');
    const westImages = await west.send(new DescribeImagesCommand({}));
    assert.ok(!westImages.Images?.some((i) => i.ImageId === imageId), 'images are per region too');
  });

  it('tags resources after the fact and describes the tags', async () => {
    const ec2 = client(operator);
    const run = await ec2.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 }));
    const id = run.Instances?.[0]?.InstanceId as string;
    await ec2.send(
      new CreateTagsCommand({
        Resources: [id, imageId],
        Tags: [
          { Key: 'owner', Value: 'ann' },
          { Key: 'cost', Value: '42' },
        ],
      }),
    );
    const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id, imageId] }] }));
    assert.deepEqual(
      tags.Tags?.map((t) => [t.ResourceId, t.ResourceType, t.Key, t.Value]).sort(),
      [
        [id, 'instance', 'cost', '42'],
        [id, 'instance', 'owner', 'ann'],
        [imageId, 'image', 'cost', '42'],
        [imageId, 'image', 'owner', 'ann'],
        [imageId, 'image', 'sim:seed', 'true'],
      ].sort(),
    );
    await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'cost', Value: 'not-42' }, { Key: 'owner' }] }));
    await ec2.send(new DeleteTagsCommand({ Resources: [imageId], Tags: [{ Key: 'cost' }, { Key: 'owner' }] }));
    const after = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(
      after.Reservations?.[0]?.Instances?.[0]?.Tags,
      [{ Key: 'cost', Value: '42' }],
      'a value that does not match deletes nothing',
    );
    const bad = await ec2Error(ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'aws:reserved', Value: 'x' }] })));
    assert.equal(bad.code, 'InvalidParameterValue');
    const unknown = await ec2Error(
      ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] })),
    );
    assert.equal(unknown.code, 'InvalidInstanceID.NotFound');
  });

  it('copies an image between providers (CopyImage is replication), once per ClientToken', async () => {
    const west = client(operator, 'sim-west');
    const input = { SourceImageId: imageId, SourceRegion: 'sim-east', Name: 'cirros-in-west', ClientToken: 'copy-1' };
    const copy = await west.send(new CopyImageCommand(input));
    assert.match(copy.ImageId ?? '', /^ami-[0-9a-f]{17}$/);
    assert.notEqual(copy.ImageId, imageId);
    assert.equal((await west.send(new CopyImageCommand(input))).ImageId, copy.ImageId, 'a retry answers the same copy');
    const described = await west.send(new DescribeImagesCommand({ ImageIds: [copy.ImageId as string] }));
    assert.equal(described.Images?.[0]?.State, 'available');
    assert.ok(described.Images?.[0]?.Tags?.some((t) => t.Key === 'skygate.replicaOf'));
    const east = await client(operator).send(new DescribeImagesCommand({}));
    assert.ok(!east.Images?.some((i) => i.ImageId === copy.ImageId), 'the copy lives in the target region only');
    const unknownRegion = await ec2Error(
      west.send(new CopyImageCommand({ ...input, SourceRegion: 'us-east-1', ClientToken: 'copy-2' })),
    );
    assert.equal(unknownRegion.code, 'InvalidParameterValue');
    const wrongRegion = await ec2Error(
      west.send(new CopyImageCommand({ ...input, SourceRegion: 'sim-west', ClientToken: 'copy-3' })),
    );
    assert.equal(wrongRegion.code, 'InvalidAMIID.NotFound', 'the source id is looked up in the source region');
  });

  it('answers a volume for a snapshot and refuses attaching across zones', async () => {
    const ec2 = client(operator);
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: 'sim-east-a' } }),
    );
    const id = run.Instances?.[0]?.InstanceId as string;
    await waitUntilInstanceRunning(waitOpts(), { InstanceIds: [id] });
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'sim-east-b', Size: 1 }));
    await waitUntilVolumeAvailable(waitOpts(), { VolumeIds: [vol.VolumeId as string] });
    const err = await ec2Error(ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: id, Device: '/dev/sdg' })));
    assert.equal(err.code, 'InvalidParameterValue');
    await ec2.send(new CreateTagsCommand({ Resources: [vol.VolumeId as string], Tags: [{ Key: 'tier', Value: 'data' }] }));
    const described = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:tier', Values: ['data'] }] }));
    assert.deepEqual(
      described.Volumes?.map((v) => [v.VolumeId, v.State]),
      [[vol.VolumeId, 'available']],
    );
  });
});

describe('access keys and roles', () => {
  it('lets a viewer key describe but not change anything', async () => {
    const ec2 = client(viewer);
    assert.ok((await ec2.send(new DescribeInstancesCommand({}))).Reservations);
    const before = await instanceCount();
    const images = await ec2.send(new DescribeImagesCommand({}));
    const err = await ec2Error(
      ec2.send(new RunInstancesCommand({ ImageId: images.Images?.[0]?.ImageId, MinCount: 1, MaxCount: 1 })),
    );
    assert.equal(err.code, 'UnauthorizedOperation');
    assert.equal(err.status, 403);
    assert.equal(await instanceCount(), before);
  });

  it("issues keys over REST with at most the caller's role, lists them, and revokes them at once", async () => {
    const token = await gw.api('post', '/v1/tokens', { name: 'reader', role: 'viewer' });
    const readerToken = token.body.token as string;
    const denied = await gw.api('post', '/v1/access-keys', { role: 'operator' }, readerToken);
    assert.equal(denied.status, 403);
    const own = await issueKey({}, readerToken);
    const listed = await gw.api('get', '/v1/access-keys', undefined, readerToken);
    assert.deepEqual(
      listed.body.items.map((k: { accessKeyId: string }) => k.accessKeyId),
      [own.accessKeyId],
      'a viewer sees its own keys only',
    );
    assert.ok(!JSON.stringify(listed.body).includes(own.secretAccessKey), 'the secret is never shown again');
    const others = await gw.api('delete', `/v1/access-keys/${operator.accessKeyId}`, undefined, readerToken);
    assert.equal(others.status, 404, "someone else's key is not the caller's to revoke");

    const ec2 = client(own);
    await ec2.send(new DescribeRegionsCommand({}));
    assert.equal((await gw.api('delete', `/v1/access-keys/${own.accessKeyId}`, undefined, readerToken)).status, 204);
    const revoked = await ec2Error(ec2.send(new DescribeRegionsCommand({})));
    assert.equal(revoked.code, 'AuthFailure');
    assert.equal(revoked.status, 401);

    // Revoking the token disables its keys too.
    const another = await issueKey({ name: 'short-lived' });
    const t2 = await gw.api('post', '/v1/tokens', { name: 'temp', role: 'operator' });
    const k2 = await issueKey({}, t2.body.token);
    await client(k2).send(new DescribeRegionsCommand({}));
    await gw.api('delete', `/v1/tokens/${t2.body.id}`);
    // The key cache trusts a verified key for 5 s (Date-based): move a mocked clock past that instead of waiting.
    // The SDK signs with the same clock, so its signatures stay current.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      mock.timers.tick(5_001);
      assert.equal((await ec2Error(client(k2).send(new DescribeRegionsCommand({})))).code, 'AuthFailure');
    } finally {
      mock.timers.reset();
    }
    await client(another).send(new DescribeRegionsCommand({}));
  });

  it('keeps secrets encrypted at rest, under a key file readable by its owner only', async () => {
    const key = await issueKey({ name: 'at-rest' });
    const db = new Database(path.join(gw.dataDir, 'skygate.db'), { readonly: true });
    try {
      const row = db.prepare('select secret from access_keys where id = ?').get(key.accessKeyId) as { secret: string };
      assert.ok(row.secret.length > 0);
      assert.ok(!row.secret.includes(key.secretAccessKey));
      assert.ok(!Buffer.from(row.secret, 'base64').toString('latin1').includes(key.secretAccessKey));
    } finally {
      db.close();
    }
    const keyFile = path.join(gw.dataDir, 'secret.key');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    assert.equal(Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64').length, 32);
  });
});

describe('bad input answers the EC2 error and creates nothing', () => {
  const base = () => ({ Action: 'DescribeInstances', Version: '2016-11-15' });
  const cases: Array<[string, () => Promise<{ code?: string; status: number }>, string]> = [
    ['an unsigned request', () => rawEc2(gw.url, operator, base(), { unsigned: true }), 'MissingAuthenticationToken'],
    [
      'a wrong secret',
      () => rawEc2(gw.url, { ...operator, secretAccessKey: `${operator.secretAccessKey}x` }, base()),
      'SignatureDoesNotMatch',
    ],
    ['an unknown access key', () => rawEc2(gw.url, { ...operator, accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' }, base()), 'AuthFailure'],
    [
      'a body changed after signing',
      () => rawEc2(gw.url, operator, base(), { tamper: (b) => b.replace('DescribeInstances', 'DescribeImages') }),
      'SignatureDoesNotMatch',
    ],
    [
      'a stale signature',
      () => rawEc2(gw.url, operator, base(), { signingDate: new Date(Date.now() - 10 * 60_000) }),
      'RequestExpired',
    ],
    ['a region that is no provider', () => rawEc2(gw.url, operator, base(), { region: 'us-east-1' }), 'AuthFailure'],
    ['a wrong Version', () => rawEc2(gw.url, operator, { ...base(), Version: '2014-10-01' }), 'NoSuchVersion'],
    ['a missing Version', () => rawEc2(gw.url, operator, { Action: 'DescribeInstances' }), 'MissingParameter'],
    ['an unknown Action', () => rawEc2(gw.url, operator, { ...base(), Action: 'LaunchRockets' }), 'InvalidAction'],
    ['a Filter without a Name', () => rawEc2(gw.url, operator, { ...base(), 'Filter.1.Value.1': 'x' }), 'InvalidFilter'],
    ['a Filter without values', () => rawEc2(gw.url, operator, { ...base(), 'Filter.1.Name': 'instance-id' }), 'InvalidFilter'],
    [
      'a Filter index that is no number',
      () => rawEc2(gw.url, operator, { ...base(), 'Filter.x.Name': 'instance-id', 'Filter.x.Value.1': 'a' }),
      'UnknownParameter',
    ],
    [
      'an unknown filter',
      () => rawEc2(gw.url, operator, { ...base(), 'Filter.1.Name': 'colour', 'Filter.1.Value.1': 'red' }),
      'InvalidParameterValue',
    ],
    ['MaxResults out of range', () => rawEc2(gw.url, operator, { ...base(), MaxResults: '2000' }), 'InvalidParameterValue'],
    ['a NextToken that is not one', () => rawEc2(gw.url, operator, { ...base(), NextToken: 'bm9wZQ' }), 'InvalidPaginationToken'],
    ['an unknown parameter', () => rawEc2(gw.url, operator, { ...base(), Colour: 'red' }), 'UnknownParameter'],
    [
      'an id of the wrong shape',
      () => rawEc2(gw.url, operator, { ...base(), 'InstanceId.1': 'i-12' }),
      'InvalidInstanceID.Malformed',
    ],
    [
      'an AMI id of the wrong shape',
      () =>
        rawEc2(gw.url, operator, {
          Action: 'RunInstances',
          Version: '2016-11-15',
          ImageId: 'img-1',
          MinCount: '1',
          MaxCount: '1',
        }),
      'InvalidAMIID.Malformed',
    ],
    [
      'an unknown AMI',
      () =>
        rawEc2(gw.url, operator, {
          Action: 'RunInstances',
          Version: '2016-11-15',
          ImageId: 'ami-0123456789abcdef0',
          MinCount: '1',
          MaxCount: '1',
        }),
      'InvalidAMIID.NotFound',
    ],
    [
      'MinCount above MaxCount',
      () =>
        rawEc2(gw.url, operator, {
          Action: 'RunInstances',
          Version: '2016-11-15',
          ImageId: 'ami-0123456789abcdef0',
          MinCount: '3',
          MaxCount: '2',
        }),
      'InvalidParameterValue',
    ],
    [
      'a missing ImageId',
      () => rawEc2(gw.url, operator, { Action: 'RunInstances', Version: '2016-11-15', MinCount: '1', MaxCount: '1' }),
      'MissingParameter',
    ],
    [
      'a parameter skygate cannot honour',
      () =>
        rawEc2(gw.url, operator, {
          Action: 'RunInstances',
          Version: '2016-11-15',
          ImageId: 'ami-0123456789abcdef0',
          MinCount: '1',
          MaxCount: '1',
          'IamInstanceProfile.Name': 'admin',
        }),
      'UnsupportedOperation',
    ],
    [
      'DryRun',
      () =>
        rawEc2(gw.url, operator, {
          Action: 'TerminateInstances',
          Version: '2016-11-15',
          'InstanceId.1': 'i-0123456789abcdef0',
          DryRun: 'true',
        }),
      'DryRunOperation',
    ],
    ['a non-boolean', () => rawEc2(gw.url, operator, { ...base(), DryRun: 'maybe' }), 'InvalidParameterValue'],
  ];
  for (const [name, send, code] of cases) {
    it(`${name} -> ${code}`, async () => {
      const before = await instanceCount();
      const res = await send();
      assert.equal(res.code, code, JSON.stringify(res));
      assert.ok(res.status >= 400 && res.status < 600, `status ${res.status}`);
      assert.equal(await instanceCount(), before);
    });
  }

  it('a terminate of an unknown instance names it', async () => {
    const err = await ec2Error(client(operator).send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    assert.equal(err.code, 'InvalidInstanceID.NotFound');
    assert.match(err.message, /i-0123456789abcdef0/);
    assert.match(err.requestId ?? '', /^[0-9a-f-]{36}$/, 'the SDK finds the request id (x-amzn-RequestId)');
  });

  it('a stop of one instance that cannot stop stops none of them', async () => {
    const ec2 = client(operator);
    const images = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['debian-12'] }] }));
    const run = await ec2.send(new RunInstancesCommand({ ImageId: images.Images?.[0]?.ImageId, MinCount: 2, MaxCount: 2 }));
    const [a, b] = (run.Instances ?? []).map((i) => i.InstanceId as string) as [string, string];
    await waitUntilInstanceRunning(waitOpts(), { InstanceIds: [a, b] });
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [b] }));
    await waitUntilInstanceTerminated(waitOpts(), { InstanceIds: [b] });
    const err = await ec2Error(ec2.send(new StopInstancesCommand({ InstanceIds: [a, b] })));
    assert.equal(err.code, 'IncorrectInstanceState');
    const state = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [a] }));
    assert.equal(state.Reservations?.[0]?.Instances?.[0]?.State?.Name, 'running', 'the other instance was left alone');
  });
});

describe('the wire', () => {
  it('answers GET with a query string, and pre-signed URLs', async () => {
    const get = await rawEc2(gw.url, operator, { Action: 'DescribeRegions', Version: '2016-11-15' }, { method: 'GET' });
    assert.equal(get.status, 200, get.text);
    assert.match(get.text, /<regionName>sim-east<\/regionName>/);
    const presigned = await rawEc2(
      gw.url,
      operator,
      { Action: 'DescribeRegions', Version: '2016-11-15' },
      { method: 'GET', presign: true },
    );
    assert.equal(presigned.status, 200, presigned.text);
    const error = await rawEc2(gw.url, operator, { Action: 'Nope', Version: '2016-11-15' });
    assert.match(
      error.text,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>InvalidAction<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/,
    );
  });

  it('matches the EC2 service model that awscli installs, action by action', async (t) => {
    const file = findEc2Model();
    if (!file) {
      t.skip('the awscli package (botocore ec2/2016-11-15/service-2.json) is not installed');
      return;
    }
    const model = loadEc2Model(file);
    const ec2 = client(operator);
    const images = await ec2.send(new DescribeImagesCommand({}));
    const imageId = images.Images?.[0]?.ImageId as string;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'model <&> check' }] }],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId as string;
    await waitUntilInstanceRunning(waitOpts(), { InstanceIds: [instanceId] });
    const vol = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: run.Instances?.[0]?.Placement?.AvailabilityZone, Size: 1 }),
    );
    await waitUntilVolumeAvailable(waitOpts(), { VolumeIds: [vol.VolumeId as string] });
    await ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: instanceId, Device: '/dev/sdh' }));
    await eventually(async () => {
      const v = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol.VolumeId as string] }));
      return v.Volumes?.[0]?.Attachments?.[0]?.State === 'attached';
    });
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
    await ec2.send(new ImportKeyPairCommand({ KeyName: 'model', PublicKeyMaterial: Buffer.from(sshPublicKey()) }));
    const v = '2016-11-15';
    const calls: Array<Record<string, string>> = [
      { Action: 'DescribeRegions' },
      { Action: 'DescribeAvailabilityZones' },
      { Action: 'DescribeInstanceTypes' },
      { Action: 'DescribeAccountAttributes' },
      { Action: 'DescribeVpcs' },
      { Action: 'DescribeSubnets' },
      { Action: 'DescribeSecurityGroups' },
      { Action: 'DescribeImages' },
      { Action: 'DescribeInstances', 'InstanceId.1': instanceId },
      { Action: 'DescribeInstanceStatus', IncludeAllInstances: 'true' },
      { Action: 'DescribeVolumes' },
      { Action: 'DescribeSnapshots' },
      { Action: 'DescribeTags' },
      { Action: 'DescribeKeyPairs', IncludePublicKey: 'true' },
      ...[
        'instanceType',
        'userData',
        'disableApiTermination',
        'instanceInitiatedShutdownBehavior',
        'groupSet',
        'ebsOptimized',
        'sourceDestCheck',
        'blockDeviceMapping',
        'rootDeviceName',
      ].map((Attribute) => ({ Action: 'DescribeInstanceAttribute', InstanceId: instanceId, Attribute })),
      ...['description', 'blockDeviceMapping', 'launchPermission'].map((Attribute) => ({
        Action: 'DescribeImageAttribute',
        ImageId: imageId,
        Attribute,
      })),
      { Action: 'CreateTags', 'ResourceId.1': instanceId, 'Tag.1.Key': 'k', 'Tag.1.Value': 'v' },
      { Action: 'ModifyInstanceAttribute', InstanceId: instanceId, 'SourceDestCheck.Value': 'false' },
      { Action: 'CreateSnapshot', VolumeId: vol.VolumeId as string },
      { Action: 'CreateVolume', AvailabilityZone: 'sim-east-a', Size: '1' },
      { Action: 'RunInstances', ImageId: imageId, MinCount: '1', MaxCount: '1' },
      { Action: 'CreateImage', InstanceId: instanceId, Name: 'model-check' },
      { Action: 'StartInstances', 'InstanceId.1': instanceId },
      { Action: 'StopInstances', 'InstanceId.1': instanceId },
      { Action: 'DetachVolume', VolumeId: vol.VolumeId as string },
      { Action: 'DeleteSnapshot', SnapshotId: snap.SnapshotId as string },
      { Action: 'DeleteKeyPair', KeyName: 'model' },
    ];
    for (const params of calls) {
      const res = await rawEc2(gw.url, operator, { ...params, Version: v });
      assert.equal(res.status, 200, `${params.Action}: ${res.text}`);
      assert.deepEqual(checkEc2Xml(model, params.Action as string, res.text), [], `${params.Action} drifts from the model`);
    }
  });

  it('refuses a request body that is not a form', async () => {
    const res = await request(gw.url).post('/ec2').set('Content-Type', 'application/json').send('{"Action":"DescribeRegions"}');
    assert.equal(res.status, 400);
    assert.match(res.text, /<Code>MalformedQueryString<\/Code>/);
  });
});

/**
 * Launches decided once in the core, seen through REST and the EC2 front (real AWS SDK): counts, all or
 * nothing below the minimum (a provider whose quota runs out part way), validation before anything is
 * written, and a primary network interface as boto3-based modules send it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type EC2ServiceException,
  type _InstanceType,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Instance, Operation } from '../../src/core/model.js';
import { ec2ClientFor } from '../helpers/ec2-client.js';
import { simProviders, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let ec2: EC2Client;
const SIM_SMALL = 'sim.small' as _InstanceType;

/** `sim-tight` can hold 4 instances: the fifth create of a launch fails with quota_exceeded. */
before(async () => {
  gw = await startTestGateway({
    providers: [...simProviders(5), { id: 'sim-tight', type: 'sim', settings: { latencyMs: 5, quotas: { instances: 4 } } }],
  });
  ec2 = await ec2ClientFor(gw, 'sim-tight');
});
after(async () => {
  ec2?.destroy();
  await gw.close();
});

const body = (over: Record<string, unknown> = {}) => ({
  provider: 'sim-east',
  name: 'batch',
  flavorId: 'sim.small',
  imageId: 'img-ubuntu-22-04',
  ...over,
});

async function launched(res: { status: number; body: Operation }): Promise<Operation> {
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return gw.waitOperation(res.body.id, 30_000);
}

/** Instances of a provider that are not terminated, read live (fresh) through REST. */
async function liveInstances(provider: string): Promise<string[]> {
  const res = await gw.api('get', `/v1/instances?provider=${provider}&limit=1000&fresh=true`);
  return (res.body.items as Instance[])
    .filter((i) => i.state !== 'terminated')
    .map((i) => i.id)
    .sort();
}

const operationCount = async () => (await gw.gateway.core.operations.list({ limit: 10_000 })).length;

describe('REST launches', () => {
  it('launches `count` instances in one operation, each with the launch recorded in its attributes', async () => {
    const op = await launched(await gw.api('post', '/v1/instances', body({ count: 3, tags: { batch: 'three' } })));
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const ids = op.result?.resourceIds as string[];
    assert.equal(ids.length, 3);
    assert.equal(op.result?.resourceId, ids[0]);
    const list = await gw.api('get', '/v1/instances?tag=batch=three');
    assert.deepEqual(list.body.items.map((i: Instance) => i.id).sort(), [...ids].sort());
    for (const i of list.body.items as Instance[]) assert.equal(i.state, 'running', 'a finished launch reads as running at once');
    const attrs = await Promise.all(ids.map((id) => gw.gateway.core.instanceAttributes.get(id)));
    assert.deepEqual(
      attrs.map((a) => [a.launchId, a.launchIndex]).sort(),
      [0, 1, 2].map((i) => [op.id, i]),
    );
  });

  it('rolls back a launch that cannot reach its count: the instances that came up are terminated and named', async () => {
    const before = await liveInstances('sim-tight');
    const op = await launched(await gw.api('post', '/v1/instances', body({ provider: 'sim-tight', count: 6 })));
    assert.equal(op.status, 'failed');
    assert.equal(op.error?.code, 'quota_exceeded');
    const room = 4 - before.length;
    assert.match(op.error?.message ?? '', new RegExp(`^${room} of 6 instances came up, fewer than the 6 required`));
    assert.match(op.error?.message ?? '', /rolled back: terminated sim-tight:i-/);
    const rolledBack = op.error?.message.match(/sim-tight:i-[0-9a-f]+/g) ?? [];
    assert.equal(rolledBack.length, room);
    assert.deepEqual(await liveInstances('sim-tight'), before, 'nothing of the launch is left running');
  });

  it('refuses bad input before any operation is written', async () => {
    const ops = await operationCount();
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [body({ keyName: 'no-such-key' }), 400, 'body.keyName'],
      [body({ count: 101 }), 400, 'body.count'],
      [body({ flavorId: 'sim.nope' }), 400, 'body.flavorId'],
      [body({ imageId: 'img-nope' }), 400, 'body.imageId'],
      [body({ zone: 'nowhere-1a' }), 400, 'body.zone'],
      [body({ securityGroups: ['sim-east:sg-other'] }), 400, 'body.securityGroups'],
      [body({ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }), 400, 'body.tags'],
    ];
    for (const [b, status, field] of cases) {
      const res = await gw.api('post', '/v1/instances', b);
      assert.equal(res.status, status, `${field}: ${JSON.stringify(res.body)}`);
      assert.ok(
        res.body.field === field || res.body.errors?.some((e: { field: string }) => e.field.startsWith(field)),
        `${field} named: ${JSON.stringify(res.body)}`,
      );
    }
    assert.equal(await operationCount(), ops, 'no operation was written');
  });
});

describe('EC2 RunInstances through the core launch', () => {
  async function ec2Error(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (e) {
      return (e as EC2ServiceException).name;
    }
    assert.fail('the call succeeded');
  }

  it('launches into a subnet through a primary network interface, and keeps MinCount..MaxCount semantics', async () => {
    const before = await liveInstances('sim-tight');
    const subnets = await ec2.send(new DescribeSubnetsCommand({}));
    const subnet = subnets.Subnets?.[1] ?? subnets.Subnets?.[0];
    assert.ok(subnet?.SubnetId);
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: (await imageEc2Id()) as string,
        InstanceType: SIM_SMALL,
        MinCount: 1,
        MaxCount: 6,
        DisableApiTermination: true,
        NetworkInterfaces: [
          {
            DeviceIndex: 0,
            SubnetId: subnet.SubnetId,
            AssociatePublicIpAddress: false,
            DeleteOnTermination: true,
            Description: 'primary',
          },
        ],
      }),
    );
    const got = run.Instances ?? [];
    assert.equal(got.length, 4 - before.length, 'as many as the quota left room for, at least MinCount');
    for (const i of got) {
      assert.equal(i.Placement?.AvailabilityZone, subnet.AvailabilityZone);
      assert.equal(i.SubnetId, subnet.SubnetId);
      // Recorded with the launch, before any create: readable at once, and it refuses a terminate.
      const attr = await ec2.send(
        new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'disableApiTermination' }),
      );
      assert.equal(attr.DisableApiTermination?.Value, true);
    }
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: got.map((i) => i.InstanceId as string) }));
    assert.equal(described.Reservations?.length, 1, 'one launch, one reservation');
    assert.equal(described.Reservations?.[0]?.ReservationId, run.ReservationId);
  });

  it('refuses interfaces it cannot honour with EC2 codes, creating nothing', async () => {
    const ops = await operationCount();
    const image = (await imageEc2Id()) as string;
    const base = { ImageId: image, InstanceType: SIM_SMALL, MinCount: 1, MaxCount: 1 };
    const subnetId = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets?.[0]?.SubnetId;
    assert.equal(
      await ec2Error(ec2.send(new RunInstancesCommand({ ...base, NetworkInterfaces: [{ DeviceIndex: 0 }, { DeviceIndex: 1 }] }))),
      'UnsupportedOperation',
    );
    assert.equal(
      await ec2Error(
        ec2.send(new RunInstancesCommand({ ...base, NetworkInterfaces: [{ DeviceIndex: 0, PrivateIpAddress: '172.31.0.9' }] })),
      ),
      'UnsupportedOperation',
    );
    assert.equal(
      await ec2Error(ec2.send(new RunInstancesCommand({ ...base, SubnetId: subnetId, NetworkInterfaces: [{ DeviceIndex: 0 }] }))),
      'InvalidParameterCombination',
    );
    assert.equal(
      await ec2Error(ec2.send(new RunInstancesCommand({ ...base, NetworkInterfaces: [{ SubnetId: subnetId }] }))),
      'MissingParameter',
    );
    assert.equal(await operationCount(), ops);
  });

  it('answers a launch below MinCount with the cause, leaving nothing running', async () => {
    const before = await liveInstances('sim-tight');
    const code = await ec2Error(
      ec2.send(
        new RunInstancesCommand({ ImageId: (await imageEc2Id()) as string, InstanceType: SIM_SMALL, MinCount: 6, MaxCount: 6 }),
      ),
    );
    assert.equal(code, 'InstanceLimitExceeded');
    assert.deepEqual(await liveInstances('sim-tight'), before);
  });
});

/** The EC2 id of sim-tight's Ubuntu image. */
async function imageEc2Id(): Promise<string | undefined> {
  const { DescribeImagesCommand } = await import('@aws-sdk/client-ec2');
  const images = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['ubuntu-22.04'] }] }));
  return images.Images?.[0]?.ImageId;
}

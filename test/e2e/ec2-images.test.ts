/**
 * AMIs through the EC2 front with the real AWS SDK: one name per region (InvalidAMIName.Duplicate, and
 * 409 over REST, from the same decision in the core), and what a deregistered AMI id answers in each
 * action, as EC2 answers it (see registeredImage in src/api/ec2/actions/images.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateImageCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
  type _InstanceType,
  waitUntilImageAvailable,
  waitUntilInstanceRunning,
} from '@aws-sdk/client-ec2';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ec2Error } from '../helpers/ec2-errors-of.js';

let gw: TestGateway;
let ec2: EC2Client;
let instanceId: string;
let baseImageId: string;

const waitOpts = () => ({ client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1 });

async function imagesNamed(name: string): Promise<string[]> {
  const res = await ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }));
  return (res.Images ?? []).filter((i) => i.State !== 'deregistered').map((i) => i.ImageId as string);
}

/** Deregisters an AMI and waits until the region no longer lists it. */
async function deregister(imageId: string): Promise<void> {
  await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    if (!res.Images?.some((i) => i.State === 'available')) return;
    if (Date.now() > deadline) assert.fail(`${imageId} still listed as available`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  gw = await startTestGateway();
  const key = await gw.api('post', '/v1/access-keys', { name: 'images-test', role: 'operator' });
  assert.equal(key.status, 201);
  ec2 = new EC2Client({
    endpoint: `${gw.url}/ec2`,
    region: 'sim-east',
    credentials: { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey },
    maxAttempts: 1,
  });
  const images = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['ubuntu-*'] }] }));
  baseImageId = images.Images?.[0]?.ImageId as string;
  const run = await ec2.send(
    new RunInstancesCommand({ ImageId: baseImageId, InstanceType: 'sim.small' as _InstanceType, MinCount: 1, MaxCount: 1 }),
  );
  instanceId = run.Instances?.[0]?.InstanceId as string;
  await waitUntilInstanceRunning(waitOpts(), { InstanceIds: [instanceId] });
});
after(async () => {
  ec2.destroy();
  await gw.close();
});

describe('one AMI name per region', () => {
  it('refuses a second image of a name in use with InvalidAMIName.Duplicate, over REST with 409, and makes none', async () => {
    const first = await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: 'golden-1' }));
    await waitUntilImageAvailable(waitOpts(), { ImageIds: [first.ImageId as string] });
    const err = await ec2Error(ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: 'golden-1' })));
    assert.equal(err.code, 'InvalidAMIName.Duplicate', err.message);
    assert.match(err.message, /golden-1/);

    const instances = await gw.api('get', '/v1/instances?limit=1000&fresh=true');
    const skygateId = instances.body.items[0].id as string;
    const rest = await gw.api('post', `/v1/instances/${encodeURIComponent(skygateId)}/snapshot`, { name: 'golden-1' });
    assert.equal(rest.status, 409, JSON.stringify(rest.body));
    assert.equal(rest.body.field, 'body.name', JSON.stringify(rest.body));
    assert.deepEqual(await imagesNamed('golden-1'), [first.ImageId]);
  });

  it('frees the name once the image is deregistered', async () => {
    const [old] = await imagesNamed('golden-1');
    await deregister(old as string);
    const again = await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: 'golden-1' }));
    assert.notEqual(again.ImageId, old);
    await waitUntilImageAvailable(waitOpts(), { ImageIds: [again.ImageId as string] });
    assert.deepEqual(await imagesNamed('golden-1'), [again.ImageId]);
  });
});

describe('a deregistered AMI id', () => {
  it('is left out by DescribeImages, Unavailable to DescribeImageAttribute and DeregisterImage, NotFound to RunInstances', async () => {
    const made = await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: 'short-lived' }));
    const imageId = made.ImageId as string;
    await waitUntilImageAvailable(waitOpts(), { ImageIds: [imageId] });
    await deregister(imageId);

    const described = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    assert.deepEqual(described.Images, []);
    const attribute = await ec2Error(
      ec2.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'blockDeviceMapping' })),
    );
    assert.equal(attribute.code, 'InvalidAMIID.Unavailable', attribute.message);
    const twice = await ec2Error(ec2.send(new DeregisterImageCommand({ ImageId: imageId })));
    assert.equal(twice.code, 'InvalidAMIID.Unavailable', twice.message);
    const launch = await ec2Error(
      ec2.send(
        new RunInstancesCommand({ ImageId: imageId, InstanceType: 'sim.small' as _InstanceType, MinCount: 1, MaxCount: 1 }),
      ),
    );
    assert.equal(launch.code, 'InvalidAMIID.NotFound', launch.message);
  });

  it('differs from an id skygate never issued, which is NotFound everywhere', async () => {
    const never = 'ami-0123456789abcdef0';
    for (const call of [
      ec2.send(new DescribeImagesCommand({ ImageIds: [never] })),
      ec2.send(new DescribeImageAttributeCommand({ ImageId: never, Attribute: 'description' })),
      ec2.send(new DeregisterImageCommand({ ImageId: never })),
    ]) {
      const err = await ec2Error(call);
      assert.equal(err.code, 'InvalidAMIID.NotFound', err.message);
    }
  });
});

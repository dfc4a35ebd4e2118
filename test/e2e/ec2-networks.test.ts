/**
 * Created networks through the EC2 front of a real gateway process, driven by Debian's AWS CLI and boto3: a network
 * made through REST is a non-default VPC with one subnet covering its block; RunInstances into that subnet (by
 * SubnetId or by a network interface) launches on the network; DescribeInstances and its filters show it there.
 * Then the JS SDK against an AWS provider answered by recorded EC2 responses: the created VPC shows through the front,
 * and a launch into its subnet reaches EC2 as a RunInstances into the VPC's real subnet.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  DescribeImagesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { AWS, type AwsCli, awsCli, SERVICE_ERROR } from '../helpers/aws-cli.js';
import { fastSims, type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import {
  type RecordedAnswer,
  type RecordedServer,
  recordedAwsProvider,
  startRecordedServer,
} from '../helpers/recorded-aws-server.js';

/** The python3 Debian's boto3 is installed for. */
const PYTHON = '/usr/bin/python3';
const run = promisify(execFile);

let gw: GatewayProcess;
let cli: AwsCli;

interface Net {
  id: string;
  cidr: string;
}
interface Vpc {
  VpcId: string;
  CidrBlock: string;
  IsDefault: boolean;
  Tags?: Array<{ Key: string; Value: string }>;
}
interface Subnet {
  SubnetId: string;
  VpcId: string;
  CidrBlock: string;
  AvailabilityZone: string;
  AvailableIpAddressCount: number;
  DefaultForAz: boolean;
  Tags?: Array<{ Key: string; Value: string }>;
}
interface Ec2Instance {
  InstanceId: string;
  SubnetId?: string;
  VpcId?: string;
  NetworkInterfaces: Array<{ SubnetId?: string; VpcId?: string }>;
}

/** Runs `aws ec2 ARGS` in `region`; answers the parsed JSON, or fails with the CLI's message. */
async function aws<T>(args: string[], region = 'sim-east'): Promise<T> {
  const r = await cli.ec2(args, { region });
  assert.equal(r.code, 0, `aws ec2 ${args.join(' ')}: ${r.stderr}`);
  return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as T;
}

/** Runs `aws ec2 ARGS` expecting EC2's error `code`; answers the CLI's message. */
async function awsFails(args: string[], code: string): Promise<string> {
  const r = await cli.ec2(args);
  assert.equal(r.code, SERVICE_ERROR, `aws ec2 ${args.join(' ')}: expected ${code}, got exit ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`\\(${code.replaceAll('.', '\\.')}\\)`), r.stderr);
  return r.stderr;
}

const vpcs = async (...args: string[]) => (await aws<{ Vpcs: Vpc[] }>(['describe-vpcs', ...args])).Vpcs;
const subnets = async (...args: string[]) => (await aws<{ Subnets: Subnet[] }>(['describe-subnets', ...args])).Subnets;
const instancesOf = async (...args: string[]) =>
  (await aws<{ Reservations: Array<{ Instances: Ec2Instance[] }> }>(['describe-instances', ...args])).Reservations.flatMap(
    (r) => r.Instances,
  );
const tagsOf = (x: { Tags?: Array<{ Key: string; Value: string }> }) =>
  Object.fromEntries((x.Tags ?? []).map((t) => [t.Key, t.Value]));

async function createNetwork(provider: string, name: string, cidr: string, tags?: Record<string, string>): Promise<Net> {
  const res = await gw.api('post', '/v1/networks', { provider, name, cidr, ...(tags && { tags }) });
  assert.equal(res.status, 201, res.text);
  return res.body as Net;
}

/** The skygate instance behind a Name tag, read through REST. */
async function restInstance(name: string): Promise<{ id: string; networkId?: string }> {
  const res = await gw.api('get', `/v1/instances?name=${name}&fresh=true`);
  assert.equal(res.status, 200, res.text);
  const [one] = res.body.items as Array<{ id: string; networkId?: string }>;
  assert.ok(one, `no instance named ${name}`);
  return one;
}

let backend: Net;
let west: Net;
let ami: string;
/** The created network's VPC and subnet, and the default VPC, as the CLI first saw them. */
let vpcId: string;
let subnetId: string;
let defaultVpcId: string;

before(async () => {
  assert.ok(existsSync(AWS), `${AWS} is missing: install Debian's awscli package (scripts/test.sh does)`);
  gw = await startGatewayProcess({ config: fastSims(), env: { SKYGATE_LOG_LEVEL: 'warn' } });
  cli = await awsCli(gw, 'ec2-networks-test');
  backend = await createNetwork('sim-east', 'backend', '10.20.0.0/24', { team: 'web' });
  west = await createNetwork('sim-west', 'west', '10.30.0.0/24');
  const images = await aws<{ Images: Array<{ ImageId: string }> }>([
    'describe-images',
    '--owners',
    'self',
    '--filters',
    'Name=name,Values=ubuntu-22.04',
  ]);
  ami = images.Images[0]?.ImageId as string;
  assert.ok(ami, 'the sim offers ubuntu-22.04');
});
after(async () => {
  await gw?.close();
});

describe('a created network as a VPC and one subnet (AWS CLI)', () => {
  it('describe-vpcs lists it beside the default VPC: its block, not default, its name as the Name tag and its tags', async () => {
    const all = await vpcs();
    assert.equal(all.length, 2, JSON.stringify(all));
    const def = all.find((v) => v.IsDefault) as Vpc;
    const created = all.find((v) => !v.IsDefault) as Vpc;
    assert.equal(def.CidrBlock, '172.31.0.0/16');
    assert.match(created.VpcId, /^vpc-[0-9a-f]{17}$/);
    assert.equal(created.CidrBlock, '10.20.0.0/24');
    assert.deepEqual(tagsOf(created), { Name: 'backend', team: 'web' });
    vpcId = created.VpcId;
    defaultVpcId = def.VpcId;
    // The other region's network is not this region's VPC.
    assert.deepEqual(
      (await vpcs('--region', 'sim-west')).filter((v) => !v.IsDefault).map((v) => v.CidrBlock),
      ['10.30.0.0/24'],
    );
  });

  it('describe-vpcs filters (is-default, tag:, cidr-block, vpc-id) and --vpc-ids answer it; unknown ids are InvalidVpcID.NotFound', async () => {
    const ids = (list: Vpc[]) => list.map((v) => v.VpcId);
    assert.deepEqual(ids(await vpcs('--filters', 'Name=is-default,Values=false')), [vpcId]);
    assert.deepEqual(ids(await vpcs('--filters', 'Name=is-default,Values=true')), [defaultVpcId]);
    assert.deepEqual(ids(await vpcs('--filters', 'Name=tag:team,Values=web')), [vpcId]);
    assert.deepEqual(ids(await vpcs('--filters', 'Name=tag:Name,Values=back*')), [vpcId]);
    assert.deepEqual(ids(await vpcs('--filters', 'Name=cidr-block,Values=10.20.0.0/24')), [vpcId]);
    assert.deepEqual(ids(await vpcs('--filters', `Name=vpc-id,Values=${vpcId}`)), [vpcId]);
    assert.deepEqual(ids(await vpcs('--vpc-ids', vpcId, defaultVpcId)).sort(), [vpcId, defaultVpcId].sort());
    const westVpc = (await vpcs('--region', 'sim-west', '--filters', 'Name=is-default,Values=false'))[0]?.VpcId as string;
    const msg = await awsFails(['describe-vpcs', '--vpc-ids', vpcId, westVpc], 'InvalidVpcID.NotFound');
    assert.match(msg, new RegExp(westVpc));
    await awsFails(['describe-vpcs', '--vpc-ids', 'vpc-0123456789abcdef0'], 'InvalidVpcID.NotFound');
  });

  it('describe-subnets shows one subnet covering the block, in the first zone, not default for it, with free addresses', async () => {
    const all = await subnets();
    assert.equal(all.length, 3, 'two default subnets (one per zone) and the created network one');
    const mine = all.filter((s) => s.VpcId === vpcId);
    assert.equal(mine.length, 1);
    const s = mine[0] as Subnet;
    assert.match(s.SubnetId, /^subnet-[0-9a-f]{17}$/);
    assert.equal(s.CidrBlock, '10.20.0.0/24');
    assert.equal(s.AvailabilityZone, 'sim-east-a');
    assert.equal(s.DefaultForAz, false);
    assert.equal(s.AvailableIpAddressCount, 256 - 5);
    assert.deepEqual(tagsOf(s), { Name: 'backend', team: 'web' });
    subnetId = s.SubnetId;
    const ids = (list: Subnet[]) => list.map((x) => x.SubnetId);
    assert.deepEqual(ids(await subnets('--filters', `Name=vpc-id,Values=${vpcId}`)), [subnetId]);
    assert.deepEqual(ids(await subnets('--filters', 'Name=default-for-az,Values=false')), [subnetId]);
    assert.equal((await subnets('--filters', 'Name=default-for-az,Values=true')).length, 2);
    assert.ok((await subnets('--filters', `Name=vpc-id,Values=${defaultVpcId}`)).every((x) => x.DefaultForAz));
    assert.deepEqual(ids(await subnets('--filters', 'Name=cidr-block,Values=10.20.0.0/24')), [subnetId]);
    assert.deepEqual(ids(await subnets('--filters', 'Name=tag:team,Values=web')), [subnetId]);
    assert.deepEqual(ids(await subnets('--subnet-ids', subnetId)), [subnetId]);
    assert.deepEqual(ids(await subnets('--filters', `Name=subnet-id,Values=${subnetId}`)), [subnetId]);
    await awsFails(['describe-subnets', '--subnet-ids', 'subnet-0123456789abcdef0'], 'InvalidSubnetID.NotFound');
  });

  it('a deleted network is gone from both lists; its ids are then InvalidVpcID/InvalidSubnetID.NotFound', async () => {
    const scratch = await createNetwork('sim-east', 'scratch', '10.40.0.0/28');
    const [v] = await vpcs('--filters', 'Name=tag:Name,Values=scratch');
    const [s] = await subnets('--filters', 'Name=tag:Name,Values=scratch');
    assert.ok(v && s);
    assert.equal(s.AvailableIpAddressCount, 16 - 5);
    assert.equal((await gw.api('delete', `/v1/networks/${encodeURIComponent(scratch.id)}`)).status, 204);
    assert.deepEqual(await vpcs('--filters', 'Name=tag:Name,Values=scratch'), []);
    await awsFails(['describe-vpcs', '--vpc-ids', v.VpcId], 'InvalidVpcID.NotFound');
    await awsFails(['describe-subnets', '--subnet-ids', s.SubnetId], 'InvalidSubnetID.NotFound');
  });
});

describe('launching into a created network (AWS CLI)', () => {
  let vm: string;

  it('run-instances --subnet-id <its subnet> launches on the network: REST shows networkId, EC2 its VPC and subnet', async () => {
    const out = await aws<{ Instances: Ec2Instance[] }>([
      'run-instances',
      '--image-id',
      ami,
      '--instance-type',
      'sim.small',
      '--subnet-id',
      subnetId,
      '--tag-specifications',
      'ResourceType=instance,Tags=[{Key=Name,Value=on-backend}]',
    ]);
    const i = out.Instances[0] as Ec2Instance;
    vm = i.InstanceId;
    assert.equal(i.SubnetId, subnetId);
    assert.equal(i.VpcId, vpcId);
    assert.equal((await restInstance('on-backend')).networkId, backend.id);
    const [seen] = await instancesOf('--instance-ids', vm);
    assert.equal(seen?.SubnetId, subnetId);
    assert.equal(seen?.VpcId, vpcId);
    assert.deepEqual(
      seen?.NetworkInterfaces.map((n) => [n.SubnetId, n.VpcId]),
      [[subnetId, vpcId]],
    );
  });

  it('describe-instances filters by vpc-id and subnet-id put it on the created network, not the default one', async () => {
    const ids = (list: Ec2Instance[]) => list.map((i) => i.InstanceId);
    assert.deepEqual(ids(await instancesOf('--filters', `Name=vpc-id,Values=${vpcId}`)), [vm]);
    assert.deepEqual(ids(await instancesOf('--filters', `Name=subnet-id,Values=${subnetId}`)), [vm]);
    assert.deepEqual(ids(await instancesOf('--filters', `Name=network-interface.vpc-id,Values=${vpcId}`)), [vm]);
    assert.ok(!ids(await instancesOf('--filters', `Name=vpc-id,Values=${defaultVpcId}`)).includes(vm));
  });

  it('a default subnet still chooses the zone and the default network', async () => {
    const [def] = await subnets('--filters', 'Name=availability-zone,Values=sim-east-b', 'Name=default-for-az,Values=true');
    assert.ok(def);
    const out = await aws<{ Instances: Array<Ec2Instance & { Placement: { AvailabilityZone: string } }> }>([
      'run-instances',
      '--image-id',
      ami,
      '--subnet-id',
      def.SubnetId,
      '--tag-specifications',
      'ResourceType=instance,Tags=[{Key=Name,Value=on-default}]',
    ]);
    const i = out.Instances[0];
    assert.equal(i?.Placement.AvailabilityZone, 'sim-east-b');
    assert.equal(i?.VpcId, defaultVpcId);
    assert.equal(i?.SubnetId, def.SubnetId);
    assert.equal((await restInstance('on-default')).networkId, undefined);
  });

  it("refuses a subnet of another region's network or an unknown one with InvalidSubnetID.NotFound, launching nothing", async () => {
    const [westSubnet] = await subnets('--region', 'sim-west', '--filters', 'Name=default-for-az,Values=false');
    assert.ok(westSubnet);
    assert.equal(westSubnet.CidrBlock, west.cidr);
    const before = (await instancesOf()).length;
    const msg = await awsFails(
      ['run-instances', '--image-id', ami, '--subnet-id', westSubnet.SubnetId],
      'InvalidSubnetID.NotFound',
    );
    assert.match(msg, new RegExp(westSubnet.SubnetId));
    await awsFails(['run-instances', '--image-id', ami, '--subnet-id', 'subnet-0123456789abcdef0'], 'InvalidSubnetID.NotFound');
    await awsFails(['run-instances', '--image-id', ami, '--subnet-id', 'subnet-nothex'], 'InvalidSubnetID.Malformed');
    assert.equal((await instancesOf()).length, before);
  });
});

describe('launching into a created network through a network interface (boto3)', () => {
  it('run_instances with NetworkInterfaces=[{SubnetId}] lands on the network', async (t) => {
    if (!existsSync(PYTHON)) return t.skip(`${PYTHON} is missing`);
    const script = `
import boto3, json, os
ec2 = boto3.client("ec2", endpoint_url=os.environ["EP"])
r = ec2.run_instances(ImageId=os.environ["AMI"], MinCount=1, MaxCount=1,
    NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": os.environ["SUBNET"]}],
    TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "nic-backend"}]}])
i = r["Instances"][0]
found = ec2.describe_instances(Filters=[{"Name": "subnet-id", "Values": [os.environ["SUBNET"]]}])
ids = [x["InstanceId"] for res in found["Reservations"] for x in res["Instances"]]
print(json.dumps({"id": i["InstanceId"], "subnet": i.get("SubnetId"), "vpc": i.get("VpcId"), "bySubnet": ids}))
`;
    const { stdout } = await run(PYTHON, ['-c', script], {
      env: { ...cli.env, EP: `${gw.url}/ec2`, AMI: ami, SUBNET: subnetId },
      timeout: 120_000,
    });
    const got = JSON.parse(stdout) as { id: string; subnet: string; vpc: string; bySubnet: string[] };
    assert.equal(got.subnet, subnetId);
    assert.equal(got.vpc, vpcId);
    assert.ok(got.bySubnet.includes(got.id), JSON.stringify(got));
    assert.equal((await restInstance('nic-backend')).networkId, backend.id);
  });
});

describe('a created network of an AWS provider through the front (JS SDK, recorded EC2 answers)', () => {
  let server: RecordedServer;
  let rec: TestGateway;
  let ec2: EC2Client;
  const script = new Map<string, RecordedAnswer>([
    ['DescribeAvailabilityZones', { file: 'DescribeAvailabilityZones-us-west-2.xml' }],
    ['DescribeVpcs', { file: 'DescribeVpcs-created.xml' }],
    ['DescribeSubnets', { file: 'DescribeSubnets-created.xml' }],
    ['DescribeImages', { file: 'DescribeImages-one.xml' }],
    ['RunInstances', { file: 'RunInstances-pending.xml' }],
    ['DescribeInstances', { file: 'DescribeInstances-one.xml' }],
  ]);

  before(async () => {
    server = await startRecordedServer('test/fixtures/aws/ec2', (action, params) =>
      action === 'DescribeInstanceTypes'
        ? { file: params.has('NextToken') ? 'DescribeInstanceTypes-page2.xml' : 'DescribeInstanceTypes-page1.xml' }
        : script.get(action),
    );
    rec = await startTestGateway({ providers: [recordedAwsProvider(server.url)] });
    const key = await rec.api('post', '/v1/access-keys', { name: 'sdk', role: 'operator' });
    assert.equal(key.status, 201, key.text);
    ec2 = new EC2Client({
      endpoint: `${rec.url}/ec2`,
      region: 'aws-rec',
      credentials: { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey },
      maxAttempts: 1,
    });
  });
  after(async () => {
    ec2?.destroy();
    await rec?.close();
    await server?.close();
  });

  it("DescribeVpcs/DescribeSubnets show the VPC skygate created (its tags, not skygate's markers) and its one subnet", async () => {
    const created =
      (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['false'] }] }))).Vpcs ?? [];
    assert.equal(created.length, 1);
    assert.equal(created[0]?.CidrBlock, '10.20.0.0/24');
    assert.deepEqual(tagsOf(created[0] as Vpc), { Name: 'backend', team: 'web' });
    const vpc = created[0]?.VpcId as string;
    const [sub, ...more] =
      (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] }))).Subnets ?? [];
    assert.equal(more.length, 0);
    assert.equal(sub?.CidrBlock, '10.20.0.0/24');
    assert.equal(sub?.DefaultForAz, false);
    assert.equal(sub?.AvailableIpAddressCount, 251);
    // The zone EC2 put the subnet in, as the adapter reports it (DescribeSubnets-created.xml), not the first zone.
    assert.equal(sub?.AvailabilityZone, 'eu-west-1a');
  });

  it("RunInstances into that subnet launches into the VPC's subnet at EC2", async () => {
    const [image] = (await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? [];
    assert.ok(image?.ImageId);
    const vpcs = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['false'] }] }))).Vpcs;
    const [sub] =
      (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcs?.[0]?.VpcId as string] }] })))
        .Subnets ?? [];
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: image.ImageId,
        InstanceType: 't2.micro',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: sub?.SubnetId,
      }),
    );
    assert.equal(out.Instances?.length, 1);
    const sent = server.of('RunInstances');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.get('SubnetId'), 'subnet-9d4a7b6c', "the launch went into the created VPC's subnet");
  });
});

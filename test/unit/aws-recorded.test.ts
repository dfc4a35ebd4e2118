/** The aws adapter against EC2 responses recorded from AWS's API reference (test/fixtures/aws/ec2), served over real HTTP. */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import { type AwsCloudAdapter, createCloudAdapter } from '../../adapters/aws/index.js';
import { isSkygateError, type SkygateError } from '../../src/core/errors.js';
import type { Operation } from '../../src/core/model.js';
import { startTestGateway } from '../helpers/gateway.js';
import { type RecordedAnswer, type RecordedServer, startRecordedServer } from '../helpers/recorded-aws-server.js';

const FIXTURES = 'test/fixtures/aws/ec2';
const quiet = { info() {}, warn() {}, error() {} };
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
/** A frozen clock, so the eventual-consistency window and the catalog cache are tested without waiting. */
const T0 = Date.parse('2025-02-04T00:00:00.000Z');

/**
 * Per-Action queues of answers; the last answer of a queue keeps answering. A queue under `Action:id`
 * answers the requests about that one resource (`ImageId.1`), ahead of the Action's own queue.
 */
const script = new Map<string, RecordedAnswer[]>();
const answer = (action: string, ...answers: RecordedAnswer[]) => script.set(action, answers);

let server: RecordedServer;

function open(settings: Record<string, unknown> = {}): AwsCloudAdapter {
  return createCloudAdapter({
    providerId: 'aws-test',
    settings: { region: 'eu-west-1', endpoint: server.url, credentials: CREDENTIALS, ...settings },
    dataDir: '',
    log: quiet,
  });
}

async function rejection(promise: Promise<unknown>): Promise<SkygateError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isSkygateError(e), `expected a SkygateError, got ${String(e)}`);
    return e;
  }
  return assert.fail('expected the call to fail');
}

/** The Query API's flattened form of one request parameter list: `Prefix.1`, `Prefix.2`, ... */
const list = (params: URLSearchParams, prefix: string) =>
  [...params.entries()].filter(([k]) => k.startsWith(`${prefix}.`)).map(([k, v]) => `${k.slice(prefix.length + 1)}=${v}`);

before(async () => {
  server = await startRecordedServer(FIXTURES, (action, params) => {
    const queue = script.get(`${action}:${params.get('ImageId.1')}`) ?? script.get(action);
    if (queue === undefined || queue.length === 0) return undefined;
    return queue.length > 1 ? queue.shift() : queue[0];
  });
});
after(() => server.close());
beforeEach(() => {
  script.clear();
  server.requests.length = 0;
});

describe('aws settings', () => {
  const bad = (settings: Record<string, unknown>) => {
    try {
      createCloudAdapter({ providerId: 'aws-test', settings, dataDir: '', log: quiet });
    } catch (e) {
      assert.ok(isSkygateError(e));
      assert.equal(e.code, 'invalid_input');
      return e.field;
    }
    return assert.fail('expected the settings to be refused');
  };

  it('refuses bad settings naming the setting, and warns about unknown ones', () => {
    assert.equal(bad({}), 'region');
    assert.equal(bad({ region: 'eu-west-1', endpoint: 'ftp://x' }), 'endpoint');
    assert.equal(bad({ region: 'eu-west-1', credentials: { accessKeyId: 'A' } }), 'credentials.secretAccessKey');
    assert.equal(
      bad({ region: 'eu-west-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B', token: 'C' } }),
      'credentials.token',
    );
    assert.equal(bad({ region: 'eu-west-1', maxAttempts: 0 }), 'maxAttempts');
    assert.equal(bad({ region: 'eu-west-1', retryMode: 'legacy' }), 'retryMode');
    assert.equal(bad({ region: 'eu-west-1', imageOwners: [] }), 'imageOwners');
    const warned: object[] = [];
    createCloudAdapter({
      providerId: 'aws-test',
      settings: { region: 'eu-west-1', regoin: 'typo' },
      dataDir: '',
      log: { ...quiet, warn: (obj) => warned.push(obj) },
    });
    assert.deepEqual(warned, [{ provider: 'aws-test', settings: ['regoin'] }]);
  });

  it('claims what EC2 can do and nothing it cannot', () => {
    const caps = open().capabilities();
    assert.equal(caps.imageDownload, false);
    assert.equal(caps.imageUpload, false);
    assert.equal(caps.nativeImageCopy, true);
    assert.equal(caps.idempotentCreate, true);
    assert.equal(caps.suspend, false, 'EC2 suspends only by hibernating, which is chosen at launch');
    assert.match(open().capabilityNotes.suspend, /hibernat/);
    assert.deepEqual(caps.extensions, [], 'native image copy is the port method copyImageFrom, not an extension');
    assert.deepEqual(open({ region: 'us-gov-west-1', accountId: 'a' }).imageCopyScope().region, 'us-gov-west-1');
  });
});

describe('aws instances', () => {
  it('reads DescribeInstances Example 2 into an instance, signed with SigV4 for the region', async () => {
    answer('DescribeInstances', { file: 'DescribeInstances-one.xml' });
    answer('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    const vm = await open().getInstance('i-1234567890abcdef0');
    assert.deepEqual(vm, {
      nativeId: 'i-1234567890abcdef0',
      name: 'Server_1',
      state: 'running',
      flavorId: 't2.micro',
      imageId: 'ami-bff32ccc',
      zone: 'eu-west-1c',
      privateIp: '192.168.1.88',
      publicIp: '54.194.252.215',
      tags: {},
      createdAt: '2018-05-08T16:46:19.000Z',
    });
    const [req] = server.requests;
    assert.equal(req?.params.get('InstanceId.1'), 'i-1234567890abcdef0');
    assert.match(req?.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ec2\/aws4_request/);
  });

  it('launches with RunInstances: one instance, the client token, base64 user data, Name and tags as TagSpecifications', async () => {
    answer('RunInstances', { file: 'RunInstances-pending.xml' });
    const vm = await open().createInstance({
      name: 'Server_1',
      flavorId: 't2.micro',
      imageId: 'ami-bff32ccc',
      zone: 'eu-west-1c',
      userData: '#!/bin/sh\necho hi',
      tags: { app: 'web' },
      clientToken: 'op-123',
    });
    assert.equal(vm.state, 'pending');
    assert.equal(vm.nativeId, 'i-1234567890abcdef0');
    const [p] = server.of('RunInstances');
    assert.ok(p);
    assert.equal(p.get('MinCount'), '1');
    assert.equal(p.get('MaxCount'), '1');
    assert.equal(p.get('ClientToken'), 'op-123');
    assert.equal(p.get('InstanceType'), 't2.micro');
    assert.equal(p.get('Placement.AvailabilityZone'), 'eu-west-1c');
    assert.equal(Buffer.from(p.get('UserData') ?? '', 'base64').toString(), '#!/bin/sh\necho hi');
    assert.deepEqual(list(p, 'TagSpecification.1'), [
      'ResourceType=instance',
      'Tag.1.Key=Name',
      'Tag.1.Value=Server_1',
      'Tag.2.Key=app',
      'Tag.2.Value=web',
    ]);
  });

  it('hashes a client token EC2 would refuse (over 64 characters) into 64 hex digits', async () => {
    answer('RunInstances', { file: 'RunInstances-pending.xml' });
    await open().createInstance({ name: 'x', flavorId: 't2.micro', imageId: 'ami-bff32ccc', clientToken: 'o'.repeat(80) });
    assert.match(server.of('RunInstances')[0]?.get('ClientToken') ?? '', /^[0-9a-f]{64}$/);
  });

  it('starts, and maps IncorrectInstanceState to conflict with the request id', async () => {
    answer(
      'StartInstances',
      { file: 'StartInstances-pending.xml' },
      { file: 'StartInstances-IncorrectInstanceState.xml', status: 400 },
    );
    const a = open();
    await a.startInstance('i-1234567890abcdef0');
    const err = await rejection(a.startInstance('i-1234567890abcdef0'));
    assert.equal(err.code, 'conflict');
    assert.equal(err.retryable, false);
    assert.equal(err.requestId, 'e5c1c3a2-8b5f-4c66-af2d-example');
    assert.equal(err.provider, 'aws-test');
  });

  it('terminates with TerminateInstances', async () => {
    answer('TerminateInstances', { file: 'TerminateInstances-shutting-down.xml' });
    await open().deleteInstance('i-1234567890abcdef0');
    assert.deepEqual(list(server.of('TerminateInstances')[0] ?? new URLSearchParams(), 'InstanceId'), ['1=i-1234567890abcdef0']);
  });

  it('maps the documented error response (InvalidInstanceID.NotFound) to not_found', async () => {
    answer('DescribeInstances', { file: 'DescribeInstances-InvalidInstanceID.NotFound.xml', status: 400 });
    const err = await rejection(open().getInstance('i-1a2b3c4d'));
    assert.equal(err.code, 'not_found');
    assert.equal(err.requestId, 'ea966190-f9aa-478e-9ede-example');
    assert.match(err.message, /InvalidInstanceID\.NotFound/);
  });

  it('names the input an unknown image came in: invalid_input on imageId', async () => {
    answer('RunInstances', { file: 'RunInstances-InvalidAMIID.NotFound.xml', status: 400 });
    const err = await rejection(
      open().createInstance({ name: 'x', flavorId: 't2.micro', imageId: 'ami-00000000', clientToken: 't' }),
    );
    assert.equal(err.code, 'invalid_input');
    assert.equal(err.field, 'imageId');
  });

  it('refuses a Name tag and reserved keys before calling EC2', async () => {
    const a = open();
    const err = await rejection(
      a.createInstance({ name: 'x', flavorId: 't', imageId: 'ami-1', clientToken: 't', tags: { Name: 'y' } }),
    );
    assert.equal(err.field, 'tags.Name');
    const reserved = await rejection(a.setTags('instance', 'i-1', { 'aws:owner': 'x' }));
    assert.equal(reserved.field, 'tags.aws:owner');
    assert.equal(server.requests.length, 0);
  });

  it('replaces tags: CreateTags for the new set, DeleteTags for keys left out, Name kept', async () => {
    answer('DescribeInstances', { file: 'DescribeInstances-one.xml' });
    answer('DescribeSnapshots', { file: 'DescribeSnapshots-one.xml' });
    answer('CreateTags', { file: 'CreateTags-true.xml' });
    answer('DeleteTags', { file: 'DeleteTags-true.xml' });
    const a = open();
    await a.setTags('instance', 'i-1234567890abcdef0', { env: 'prod' });
    assert.deepEqual(list(server.of('CreateTags')[0] ?? new URLSearchParams(), 'Tag'), ['1.Key=env', '1.Value=prod']);
    assert.equal(server.of('DeleteTags').length, 0, 'the Name tag is the name and stays');
    await a.setTags('snapshot', 'snap-0abcdef1234567890', {});
    assert.equal(server.of('CreateTags').length, 1, 'nothing to create');
    assert.deepEqual(list(server.of('DeleteTags')[0] ?? new URLSearchParams(), 'Tag'), ['1.Key=purpose']);
  });

  it('renames an instance in place: CreateTags of its Name tag, nothing else', async () => {
    answer('CreateTags', { file: 'CreateTags-true.xml' });
    await open().rename('instance', 'i-1234567890abcdef0', 'web 2');
    const params = server.of('CreateTags')[0] ?? new URLSearchParams();
    assert.deepEqual(list(params, 'ResourceId'), ['1=i-1234567890abcdef0']);
    assert.deepEqual(list(params, 'Tag'), ['1.Key=Name', '1.Value=web 2']);
    assert.equal(server.requests.length, 1);
  });

  it('renames a volume in place: CreateTags of its Name tag, and the volume reads back with the new name', async () => {
    answer('CreateTags', { file: 'CreateTags-true.xml' });
    answer('DescribeVolumes', { file: 'DescribeVolumes-renamed.xml' });
    const a = open();
    await a.rename('volume', 'vol-1234567890abcdef0', 'data 2');
    const params = server.of('CreateTags')[0] ?? new URLSearchParams();
    assert.deepEqual(list(params, 'ResourceId'), ['1=vol-1234567890abcdef0']);
    assert.deepEqual(list(params, 'Tag'), ['1.Key=Name', '1.Value=data 2']);
    assert.equal(server.requests.length, 1, 'one call, no DeleteTags: the other tags stay');
    const read = await a.getVolume('vol-1234567890abcdef0');
    assert.equal(read.name, 'data 2');
    assert.deepEqual(read.tags, { purpose: 'db' });
  });
});

describe('aws networks: a VPC with one subnet covering it', () => {
  const NETWORK = {
    nativeId: 'vpc-1a2b3c4d',
    name: 'backend',
    cidr: '10.20.0.0/24',
    gateway: '10.20.0.1',
    zone: 'eu-west-1a',
    state: 'available',
    tags: { team: 'web' },
    createdAt: '2025-02-03T23:53:18.000Z',
  };
  const spec = { name: 'backend', cidr: '10.20.0.0/24', tags: { team: 'web' }, clientToken: 'op-net-1' };

  it('creates after a token lookup: CreateVpc then CreateSubnet over the whole block, both tagged with name, tags, marker and token', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    answer('CreateVpc', { file: 'CreateVpc-pending.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-none.xml' });
    answer('CreateSubnet', { file: 'CreateSubnet-available.xml' });
    const a = open();
    assert.equal(a.capabilities().networks, true);
    assert.deepEqual(await a.createNetwork(spec), NETWORK);
    assert.deepEqual(list(server.of('DescribeVpcs')[0] ?? new URLSearchParams(), 'Filter.1'), [
      'Name=tag:skygate:client-token',
      'Value.1=op-net-1',
    ]);
    const vpc = server.of('CreateVpc')[0] ?? new URLSearchParams();
    assert.equal(vpc.get('CidrBlock'), '10.20.0.0/24');
    const tags = list(vpc, 'TagSpecification.1');
    assert.deepEqual(tags.slice(0, 7), [
      'ResourceType=vpc',
      'Tag.1.Key=Name',
      'Tag.1.Value=backend',
      'Tag.2.Key=team',
      'Tag.2.Value=web',
      'Tag.3.Key=skygate:client-token',
      'Tag.3.Value=op-net-1',
    ]);
    assert.equal(tags[7], 'Tag.4.Key=skygate:network');
    assert.match(tags[8] ?? '', /^Tag\.4\.Value=\d{4}-\d\d-\d\dT/);
    const subnet = server.of('CreateSubnet')[0] ?? new URLSearchParams();
    assert.equal(subnet.get('VpcId'), 'vpc-1a2b3c4d');
    assert.equal(subnet.get('CidrBlock'), '10.20.0.0/24');
    assert.deepEqual(list(subnet, 'TagSpecification.1').slice(0, 1), ['ResourceType=subnet']);
    assert.ok(list(subnet, 'TagSpecification.1').includes('Tag.4.Value=2025-02-03T23:53:18.000Z'), "the VPC's creation time");
  });

  it('a repeat with the same token answers the first VPC and makes nothing', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-created.xml' });
    assert.deepEqual(await open().createNetwork(spec), NETWORK);
    assert.equal(server.of('CreateVpc').length, 0);
    assert.equal(server.of('CreateSubnet').length, 0);
  });

  it('a repeat after a stop between the two creates makes only the subnet', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-none.xml' });
    answer('CreateSubnet', { file: 'CreateSubnet-available.xml' });
    assert.deepEqual(await open().createNetwork(spec), NETWORK);
    assert.equal(server.of('CreateVpc').length, 0);
    assert.equal(server.of('CreateSubnet').length, 1);
  });

  it('waits out a VPC EC2 does not show to CreateSubnet yet (InvalidVpcID.NotFound) instead of failing', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    answer('CreateVpc', { file: 'CreateVpc-pending.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-none.xml' });
    answer(
      'CreateSubnet',
      { file: 'CreateSubnet-InvalidVpcID.NotFound.xml', status: 400 },
      { file: 'CreateSubnet-available.xml' },
    );
    assert.deepEqual(await open().createNetwork(spec), NETWORK);
    assert.equal(server.of('CreateSubnet').length, 2);
    assert.equal(server.of('DeleteVpc').length, 0);
  });

  it('deletes the VPC it made when the subnet fails, and reports the subnet error', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    answer('CreateVpc', { file: 'CreateVpc-pending.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-none.xml' });
    answer('CreateSubnet', { file: 'CreateSubnet-InvalidSubnet.Range.xml', status: 400 });
    answer('DeleteVpc', { file: 'DeleteVpc-true.xml' });
    const err = await rejection(open().createNetwork(spec));
    assert.equal(err.code, 'invalid_input');
    assert.equal(err.field, 'cidr');
    assert.equal(server.of('DeleteVpc')[0]?.get('VpcId'), 'vpc-1a2b3c4d');
  });

  it('refuses a gateway other than the first host, reserved tags and a bad block before calling EC2', async () => {
    const a = open();
    const gw = await rejection(a.createNetwork({ ...spec, gateway: '10.20.0.254' }));
    assert.equal(gw.code, 'invalid_input');
    assert.equal(gw.field, 'gateway');
    assert.match(gw.message, /must be 10\.20\.0\.1 on AWS: a VPC subnet's first host is always its router/);
    assert.equal((await rejection(a.createNetwork({ ...spec, tags: { 'skygate:network': 'x' } }))).field, 'tags.skygate:network');
    assert.equal((await rejection(a.createNetwork({ ...spec, cidr: '10.20.0.0/8' }))).field, 'cidr');
    assert.equal(server.requests.length, 0);
  });

  it("lists only the VPCs carrying the marker tag, each with its subnet's zone (one DescribeSubnets for all)", async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-created.xml' });
    assert.deepEqual(await open().listNetworks(), [NETWORK]);
    for (const action of ['DescribeVpcs', 'DescribeSubnets']) {
      assert.equal(server.of(action).length, 1);
      assert.deepEqual(list(server.of(action)[0] ?? new URLSearchParams(), 'Filter.1'), [
        'Name=tag-key',
        'Value.1=skygate:network',
      ]);
    }
  });

  it('a listed VPC whose create stopped before its subnet has no zone', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-none.xml' });
    const { zone, ...rest } = NETWORK;
    assert.deepEqual(await open().listNetworks(), [rest]);
  });

  it('deletes the subnets, then the VPC; a subnet in use is a conflict and the VPC stays', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-created.xml' });
    answer('DeleteSubnet', { file: 'DeleteSubnet-true.xml' });
    answer('DeleteVpc', { file: 'DeleteVpc-true.xml' });
    const a = open();
    await a.deleteNetwork('vpc-1a2b3c4d');
    assert.deepEqual(
      server.requests.map((r) => r.action),
      ['DescribeVpcs', 'DescribeSubnets', 'DeleteSubnet', 'DeleteVpc'],
    );
    assert.equal(server.of('DeleteSubnet')[0]?.get('SubnetId'), 'subnet-9d4a7b6c');
    server.requests.length = 0;
    answer('DeleteSubnet', { file: 'DeleteSubnet-DependencyViolation.xml', status: 400 });
    const busy = await rejection(a.deleteNetwork('vpc-1a2b3c4d'));
    assert.equal(busy.code, 'conflict');
    assert.match(busy.message, /has dependencies/);
    assert.equal(server.of('DeleteVpc').length, 0);
  });

  it('never touches a VPC skygate did not create: not_found', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    const a = open();
    assert.equal((await rejection(a.deleteNetwork('vpc-0default'))).code, 'not_found');
    assert.equal((await rejection(a.updateNetwork('vpc-0default', { name: 'x' }))).code, 'not_found');
    assert.deepEqual(
      server.requests.map((r) => r.action),
      ['DescribeVpcs', 'DescribeVpcs'],
    );
  });

  it('renames with the Name tag and replaces the tags: CreateTags for the new set, DeleteTags for keys left out', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-created.xml' });
    answer('CreateTags', { file: 'CreateTags-true.xml' });
    answer('DeleteTags', { file: 'DeleteTags-true.xml' });
    const changed = await open().updateNetwork('vpc-1a2b3c4d', { name: 'backend-2', tags: { env: 'prod' } });
    assert.deepEqual(changed, { ...NETWORK, name: 'backend-2', tags: { env: 'prod' } });
    const put = server.of('CreateTags')[0] ?? new URLSearchParams();
    assert.deepEqual(list(put, 'ResourceId'), ['1=vpc-1a2b3c4d']);
    assert.deepEqual(list(put, 'Tag'), ['1.Key=Name', '1.Value=backend-2', '2.Key=env', '2.Value=prod']);
    assert.deepEqual(list(server.of('DeleteTags')[0] ?? new URLSearchParams(), 'Tag'), ['1.Key=team']);
    server.requests.length = 0;
    const renamed = await open().updateNetwork('vpc-1a2b3c4d', { name: 'backend-3' });
    assert.deepEqual(renamed.tags, { team: 'web' }, 'tags left alone when not given');
    assert.equal(server.of('DeleteTags').length, 0);
  });

  it("launches into the network's subnet; a network skygate did not create is invalid on networkId", async () => {
    answer('DescribeSubnets', { file: 'DescribeSubnets-created.xml' });
    answer('RunInstances', { file: 'RunInstances-on-network.xml' });
    const a = open();
    const launch = {
      name: 'web',
      flavorId: 't2.micro',
      imageId: 'ami-bff32ccc',
      clientToken: 'op-run',
      networkId: 'vpc-1a2b3c4d',
    };
    const vm = await a.createInstance(launch);
    assert.equal(vm.networkId, 'vpc-1a2b3c4d', 'the launch reports the network it went on');
    assert.equal(vm.zone, 'eu-west-1a');
    assert.equal(server.of('DescribeVpcs').length, 0, "the subnet's marker told the VPC is skygate's: no lookup");
    const run = server.of('RunInstances')[0] ?? new URLSearchParams();
    assert.equal(run.get('SubnetId'), 'subnet-9d4a7b6c');
    assert.deepEqual(list(server.of('DescribeSubnets')[0] ?? new URLSearchParams(), 'Filter.1'), [
      'Name=vpc-id',
      'Value.1=vpc-1a2b3c4d',
    ]);
    assert.equal((await rejection(a.createInstance({ ...launch, zone: 'eu-west-1b' }))).field, 'zone');
    answer('DescribeSubnets', { file: 'DescribeSubnets-none.xml' });
    const err = await rejection(a.createInstance({ ...launch, networkId: 'vpc-0default' }));
    assert.equal(err.field, 'networkId');
    assert.equal(server.of('RunInstances').length, 1);
  });
});

describe('aws instances on a created network: networkId is the VPC when skygate created it', () => {
  afterEach(() => mock.timers.reset());

  it('a listing page reports the VPC of an instance on a created network; one in another VPC reports none', async () => {
    answer('DescribeInstances', { file: 'DescribeInstances-two-vpcs.xml' });
    answer('DescribeVpcs', { file: 'DescribeVpcs-by-id.xml' });
    const page = await open().listInstances();
    assert.deepEqual(
      page.items.map((i) => [i.nativeId, i.networkId]),
      [
        ['i-1234567890abcdef0', undefined],
        ['i-0598c7d356eba48d7', 'vpc-1a2b3c4d'],
      ],
    );
    assert.ok(!('networkId' in (page.items[0] ?? {})), 'no networkId key at all off created networks');
    assert.equal(server.of('DescribeVpcs').length, 1, 'one DescribeVpcs for the page, not one per instance');
    assert.deepEqual(list(server.of('DescribeVpcs')[0] ?? new URLSearchParams(), 'Filter.1'), [
      'Name=vpc-id',
      'Value.1=vpc-11112222',
      'Value.2=vpc-1a2b3c4d',
    ]);
  });

  it('keeps what it learnt about each VPC for catalogCacheMs: later reads look nothing up until then', async () => {
    mock.timers.enable({ apis: ['Date'], now: T0 });
    answer('DescribeInstances', { file: 'DescribeInstances-two-vpcs.xml' });
    answer('DescribeVpcs', { file: 'DescribeVpcs-by-id.xml' });
    const a = open({ catalogCacheMs: 60_000 });
    await a.listInstances();
    const again = await a.listInstances();
    assert.equal(again.items[1]?.networkId, 'vpc-1a2b3c4d');
    answer('DescribeInstances', { file: 'DescribeInstances-one.xml' });
    assert.equal((await a.getInstance('i-1234567890abcdef0')).networkId, undefined);
    assert.equal(server.of('DescribeVpcs').length, 1, 'both VPCs known: no more lookups');
    mock.timers.tick(60_001);
    await a.getInstance('i-1234567890abcdef0');
    assert.equal(server.of('DescribeVpcs').length, 2, 'looked up again once the answer aged');
    assert.deepEqual(list(server.of('DescribeVpcs')[1] ?? new URLSearchParams(), 'Filter.1'), [
      'Name=vpc-id',
      'Value.1=vpc-11112222',
    ]);
  });

  it('with catalogCacheMs 0 every read looks its VPCs up, and still answers right', async () => {
    answer('DescribeInstances', { file: 'DescribeInstances-two-vpcs.xml' });
    answer('DescribeVpcs', { file: 'DescribeVpcs-by-id.xml' });
    const a = open({ catalogCacheMs: 0 });
    for (let round = 1; round <= 2; round++) {
      const page = await a.listInstances();
      assert.deepEqual(
        page.items.map((i) => i.networkId),
        [undefined, 'vpc-1a2b3c4d'],
      );
      assert.equal(server.of('DescribeVpcs').length, round);
    }
  });

  it('a VPC EC2 does not return (deleted since) counts as not created; a failed lookup fails the read', async () => {
    answer('DescribeInstances', { file: 'DescribeInstances-two-vpcs.xml' });
    answer('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    const page = await open().listInstances();
    assert.deepEqual(
      page.items.map((i) => i.networkId),
      [undefined, undefined],
    );
    answer('DescribeVpcs', { file: 'DescribeInstances-RequestLimitExceeded.xml', status: 503 });
    const err = await rejection(open().listInstances());
    assert.equal(err.code, 'throttled', 'not a silent answer on the default network');
  });

  it('a network this adapter listed is known at once; a deleted one is forgotten', async () => {
    answer('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    answer('DescribeSubnets', { file: 'DescribeSubnets-created.xml' });
    answer('DeleteSubnet', { file: 'DeleteSubnet-true.xml' });
    answer('DeleteVpc', { file: 'DeleteVpc-true.xml' });
    answer('DescribeInstances', { file: 'DescribeInstances-two-vpcs.xml' });
    const a = open();
    await a.listNetworks();
    server.requests.length = 0;
    answer('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    assert.equal((await a.listInstances()).items[1]?.networkId, 'vpc-1a2b3c4d', 'known from the listing');
    assert.deepEqual(list(server.of('DescribeVpcs')[0] ?? new URLSearchParams(), 'Filter.1'), [
      'Name=vpc-id',
      'Value.1=vpc-11112222',
    ]);
    answer('DescribeVpcs', { file: 'DescribeVpcs-created.xml' });
    await a.deleteNetwork('vpc-1a2b3c4d');
    server.requests.length = 0;
    answer('DescribeVpcs', { file: 'DescribeVpcs-none.xml' });
    assert.equal((await a.listInstances()).items[1]?.networkId, undefined, 'the deleted VPC is looked up again, not found');
    assert.deepEqual(list(server.of('DescribeVpcs')[0] ?? new URLSearchParams(), 'Filter.1'), [
      'Name=vpc-id',
      'Value.1=vpc-1a2b3c4d',
    ]);
  });
});

describe('aws to aws replication: CopyImage at the destination', () => {
  afterEach(() => mock.timers.reset());
  const spec = { name: 'getting-started', tags: { 'skygate.replicaOf': 'aws-east:ami-1a2b3c4d' }, clientToken: 'op-copy-1' };

  it('copies with CopyImage: source region and image, the token as ClientToken, the tags on the new AMI', async () => {
    mock.timers.enable({ apis: ['Date'], now: T0 });
    answer('CopyImage', { file: 'CopyImage-ami.xml' });
    answer('DescribeImages', { file: 'DescribeImages-copy-pending.xml' });
    const copy = await open({ region: 'us-west-2' }).copyImageFrom({ region: 'us-east-1', nativeId: 'ami-1a2b3c4d' }, spec);
    assert.deepEqual(
      { id: copy.nativeId, state: copy.state, tags: copy.tags, size: copy.sizeBytes },
      { id: 'ami-4d3c2b1a', state: 'pending', tags: spec.tags, size: 15 * 2 ** 30 },
    );
    const sent = server.of('CopyImage')[0] ?? new URLSearchParams();
    assert.deepEqual(
      ['SourceRegion', 'SourceImageId', 'Name', 'ClientToken'].map((k) => sent.get(k)),
      ['us-east-1', 'ami-1a2b3c4d', 'getting-started', 'op-copy-1'],
    );
    assert.deepEqual(list(sent, 'TagSpecification.1'), [
      'ResourceType=image',
      'Tag.1.Key=skygate.replicaOf',
      'Tag.1.Value=aws-east:ami-1a2b3c4d',
    ]);
    assert.match(server.requests[0]?.authorization ?? '', /\/us-west-2\/ec2\/aws4_request/, 'called at the destination');
    assert.deepEqual(
      server.requests.map((r) => r.action),
      ['CopyImage', 'DescribeImages'],
      'no waiter: waiting until available is the engine step',
    );
  });

  it('copies then tags on an EC2-compatible endpoint that refuses TagSpecification on CopyImage', async () => {
    answer('CopyImage', { file: 'CopyImage-UnknownParameter.xml', status: 400 }, { file: 'CopyImage-ami.xml' });
    answer('CreateTags', { file: 'CreateTags-true.xml' });
    answer('DescribeImages', { file: 'DescribeImages-copy-pending.xml' });
    const copy = await open({ region: 'us-west-2' }).copyImageFrom({ region: 'us-east-1', nativeId: 'ami-1a2b3c4d' }, spec);
    assert.equal(copy.nativeId, 'ami-4d3c2b1a');
    const [tagged, plain] = server.of('CopyImage');
    assert.equal(tagged?.get('TagSpecification.1.ResourceType'), 'image');
    assert.equal(plain?.get('TagSpecification.1.ResourceType'), null);
    assert.equal(plain?.get('ClientToken'), 'op-copy-1', 'the same token: a repeat answers the same copy');
    const tags = server.of('CreateTags')[0] ?? new URLSearchParams();
    assert.equal(tags.get('ResourceId.1'), 'ami-4d3c2b1a');
    assert.deepEqual(list(tags, 'Tag'), ['1.Key=skygate.replicaOf', '1.Value=aws-east:ami-1a2b3c4d']);
  });

  it('refuses bad input naming the field before calling EC2, and maps an unknown source AMI onto it', async () => {
    const a = open({ region: 'us-west-2' });
    const missing = await rejection(a.copyImageFrom({ region: '', nativeId: 'ami-1a2b3c4d' }, spec));
    assert.equal(missing.field, 'source.region');
    assert.equal(
      (await rejection(a.copyImageFrom({ region: 'us-east-1', nativeId: 'ami-1' }, { ...spec, tags: { 'aws:x': 'y' } }))).field,
      'tags.aws:x',
    );
    assert.equal(server.requests.length, 0);
    answer('CopyImage', { file: 'RunInstances-InvalidAMIID.NotFound.xml', status: 400 });
    const unknown = await rejection(a.copyImageFrom({ region: 'us-east-1', nativeId: 'ami-00000000' }, spec));
    assert.deepEqual([unknown.code, unknown.field], ['invalid_input', 'source.nativeId']);
  });

  it('replicates an image between two aws providers of one account natively, through the operations engine', {
    timeout: 60_000,
  }, async () => {
    mock.timers.enable({ apis: ['Date'], now: T0 });
    answer('DescribeAvailabilityZones', { file: 'DescribeAvailabilityZones-us-west-2.xml' });
    answer('DescribeInstanceTypes', { file: 'DescribeInstanceTypes-page1.xml' }, { file: 'DescribeInstanceTypes-page2.xml' });
    answer('DescribeImages:ami-1a2b3c4d', { file: 'DescribeImages-one.xml' });
    answer(
      'DescribeImages:ami-4d3c2b1a',
      { file: 'DescribeImages-copy-pending.xml' },
      { file: 'DescribeImages-copy-available.xml' },
    );
    answer('CopyImage', { file: 'CopyImage-ami.xml' });
    const settings = { endpoint: server.url, credentials: CREDENTIALS };
    const gw = await startTestGateway({
      providers: [
        { id: 'aws-east', type: 'aws', settings: { ...settings, region: 'us-east-1', credentials: { ...CREDENTIALS } } },
        { id: 'aws-west', type: 'aws', settings: { ...settings, region: 'us-west-2', credentials: { ...CREDENTIALS } } },
      ],
    });
    try {
      const res = await gw.api('post', `/v1/images/${encodeURIComponent('aws-east:ami-1a2b3c4d')}/replicate`, {
        targets: ['aws-west'],
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op: Operation = await gw.waitOperation(res.body.id, 30_000);
      assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
      assert.deepEqual(op.result?.replicas, [{ provider: 'aws-west', imageId: 'aws-west:ami-4d3c2b1a', method: 'native' }]);
      const copies = server.requests.filter((r) => r.action === 'CopyImage');
      assert.equal(copies.length, 1);
      assert.match(copies[0]?.authorization ?? '', /\/us-west-2\/ec2\/aws4_request/);
      assert.deepEqual(
        ['SourceRegion', 'SourceImageId', 'ClientToken'].map((k) => copies[0]?.params.get(k)),
        ['us-east-1', 'ami-1a2b3c4d', `${op.id}-aws-west`],
      );
      assert.equal(copies[0]?.params.get('TagSpecification.1.Tag.1.Value'), 'aws-east:ami-1a2b3c4d');
      const replica = await gw.api('get', `/v1/images/${encodeURIComponent('aws-west:ami-4d3c2b1a')}`);
      assert.equal(replica.body.state, 'available');
      assert.equal(
        server.requests.filter((r) => r.action === 'DescribeImages' && r.params.get('ImageId.1') === 'ami-1a2b3c4d').length > 0,
        true,
        'the source AMI was read at the source',
      );
    } finally {
      await gw.close();
    }
  });
});

describe('aws errors', () => {
  it('maps RequestLimitExceeded to throttled with a retryAfter, and a Retry-After header wins', async () => {
    answer(
      'DescribeInstances',
      { file: 'DescribeInstances-RequestLimitExceeded.xml', status: 503 },
      { file: 'DescribeInstances-RequestLimitExceeded.xml', status: 503, headers: { 'retry-after': '7' } },
    );
    const a = open();
    const err = await rejection(a.getInstance('i-1234567890abcdef0'));
    assert.equal(err.code, 'throttled');
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfter, 1);
    assert.equal(err.requestId, 'b9f2c2e3-5e0f-4d2f-9c43-example');
    assert.equal((await rejection(a.getInstance('i-1234567890abcdef0'))).retryAfter, 7);
  });

  it('lets the SDK retry strategy retry throttling when maxAttempts asks for it', async () => {
    answer('DescribeInstances', { file: 'DescribeInstances-RequestLimitExceeded.xml', status: 503 });
    const err = await rejection(open({ maxAttempts: 2 }).getInstance('i-1234567890abcdef0'));
    assert.equal(err.code, 'throttled');
    assert.equal(server.of('DescribeInstances').length, 2, 'one SDK retry');
  });

  it('maps AuthFailure to unauthorized, and health reports down', async () => {
    answer('DescribeAvailabilityZones', { file: 'DescribeAvailabilityZones-AuthFailure.xml', status: 401 });
    const a = open();
    const err = await rejection(a.zones());
    assert.equal(err.code, 'unauthorized');
    assert.equal(err.requestId, 'c2e6a0a6-0c5e-4b7c-8f4a-example');
    const health = await a.health();
    assert.equal(health.status, 'down');
    assert.match(health.message ?? '', /^unauthorized: .*AuthFailure/);
  });

  it('maps UnauthorizedOperation to forbidden', async () => {
    answer('RunInstances', { file: 'RunInstances-UnauthorizedOperation.xml', status: 403 });
    const err = await rejection(open().createInstance({ name: 'x', flavorId: 't2.micro', imageId: 'ami-1', clientToken: 't' }));
    assert.equal(err.code, 'forbidden');
    assert.equal(err.requestId, 'd4b0b2f1-7a4e-4b55-9e1c-example');
  });

  it('falls back on the HTTP status for a body that is not AWS XML (an HTML 502 from a proxy)', async () => {
    answer('DescribeInstances', { file: 'DescribeInstances-bad-gateway.html', status: 502 });
    const err = await rejection(open().getInstance('i-1234567890abcdef0'));
    assert.equal(err.code, 'provider_unavailable');
    assert.equal(err.retryable, true);
    assert.match(err.message, /HTTP 502: the provider answered with a body that is not an AWS response/);
  });

  it('maps an endpoint nobody listens on to provider_unavailable', async () => {
    const closed = await startRecordedServer(FIXTURES, () => undefined);
    await closed.close();
    const err = await rejection(open({ endpoint: closed.url }).listInstances());
    assert.equal(err.code, 'provider_unavailable');
    assert.match(err.message, /ECONNREFUSED/);
  });
});

describe('aws images', () => {
  it('reads DescribeImages Example 1: an AMI with its EBS size and no creation date', async () => {
    answer('DescribeImages', { file: 'DescribeImages-one.xml' });
    const a = open();
    const image = await a.getImage('ami-1a2b3c4d');
    assert.deepEqual(image, {
      nativeId: 'ami-1a2b3c4d',
      name: 'getting-started',
      state: 'available',
      sizeBytes: 15 * 2 ** 30,
      diskFormat: 'ami',
      // The root device /dev/sda matches no mapping (/dev/sda1): the first EBS mapping stands in.
      minDiskGiB: 15,
      tags: {},
      createdAt: '1970-01-01T00:00:00.000Z',
    });
    assert.equal(server.of('DescribeImages')[0]?.get('Owner.1'), null, 'a read by id does not filter by owner');
    await a.listImages();
    assert.equal(server.of('DescribeImages')[1]?.get('Owner.1'), 'self');
  });

  it('captures with CreateImage, tagging the client token, and a repeat finds the first image instead of a second', async () => {
    answer('DescribeImages', { file: 'DescribeImages-none.xml' }, { file: 'DescribeImages-captured.xml' });
    answer('CreateImage', { file: 'CreateImage-ami.xml' });
    const a = open();
    const spec = { name: 'standard-web-server-v1.0', tags: { purpose: 'test' }, clientToken: 'op-capture-1' };
    const image = await a.createImageFromInstance('i-1234567890abcdef0', spec);
    assert.deepEqual(image, {
      nativeId: 'ami-4fa54026',
      name: 'standard-web-server-v1.0',
      state: 'pending',
      sizeBytes: 88 * 2 ** 30,
      diskFormat: 'ami',
      minDiskGiB: 8,
      os: 'Linux/UNIX',
      sourceInstanceId: 'i-1234567890abcdef0',
      tags: { purpose: 'test' },
      createdAt: '2025-02-03T23:53:18.000Z',
    });
    const [lookup, visible] = server.of('DescribeImages');
    assert.deepEqual(list(lookup ?? new URLSearchParams(), 'Filter.1'), [
      'Name=tag:skygate:client-token',
      'Value.1=op-capture-1',
    ]);
    assert.equal(visible?.get('ImageId.1'), 'ami-4fa54026', 'the ImageExists waiter reads the new AMI');
    const create = server.of('CreateImage')[0];
    assert.equal(create?.get('NoReboot'), 'true');
    assert.deepEqual(list(create ?? new URLSearchParams(), 'TagSpecification.1'), [
      'ResourceType=image',
      'Tag.1.Key=purpose',
      'Tag.1.Value=test',
      'Tag.2.Key=skygate:client-token',
      'Tag.2.Value=op-capture-1',
    ]);

    const again = await a.createImageFromInstance('i-1234567890abcdef0', spec);
    assert.equal(again.nativeId, image.nativeId);
    assert.equal(server.of('CreateImage').length, 1, 'no second CreateImage');
  });

  it('resolves a duplicate-name race through the token, and reports a plain duplicate as conflict on name', async () => {
    answer('DescribeImages', { file: 'DescribeImages-none.xml' }, { file: 'DescribeImages-captured.xml' });
    answer('CreateImage', { file: 'CreateImage-InvalidAMIName.Duplicate.xml', status: 400 });
    const a = open();
    const raced = await a.createImageFromInstance('i-1234567890abcdef0', {
      name: 'standard-web-server-v1.0',
      clientToken: 'op-capture-1',
    });
    assert.equal(raced.nativeId, 'ami-4fa54026');

    answer('DescribeImages', { file: 'DescribeImages-none.xml' });
    const err = await rejection(
      a.createImageFromInstance('i-1234567890abcdef0', { name: 'standard-web-server-v1.0', clientToken: 'other' }),
    );
    assert.equal(err.code, 'conflict');
    assert.equal(err.field, 'name');
    assert.equal(err.requestId, '18f4f6d5-be82-4f99-9250-example');
  });
});

describe('aws snapshots and volumes', () => {
  afterEach(() => mock.timers.reset());

  it('reads DescribeSnapshots: completed is available, the description names it, and listings are our own', async () => {
    answer('DescribeSnapshots', { file: 'DescribeSnapshots-one.xml' });
    const a = open();
    assert.deepEqual(await a.getSnapshot('snap-0abcdef1234567890'), {
      nativeId: 'snap-0abcdef1234567890',
      name: 'My root volume snapshot',
      state: 'available',
      volumeId: 'vol-01234567890abcdef',
      sizeGiB: 8,
      tags: { purpose: 'production_backup' },
      createdAt: '2025-02-03T23:53:18.195Z',
    });
    await a.listSnapshots();
    assert.equal(server.of('DescribeSnapshots')[1]?.get('Owner.1'), 'self', 'without it EC2 lists every public snapshot');
  });

  it('snapshots with CreateSnapshot after a token lookup, and deletes; once deleted, not found is not_found at once', async () => {
    answer(
      'DescribeSnapshots',
      { file: 'DescribeSnapshots-none.xml' },
      { file: 'DescribeSnapshots-InvalidSnapshot.NotFound.xml', status: 400 },
    );
    answer('CreateSnapshot', { file: 'CreateSnapshot-pending.xml' });
    answer('DeleteSnapshot', { file: 'DeleteSnapshot-true.xml' });
    const a = open();
    const snap = await a.createSnapshot('vol-1234567890abcdef0', { name: 'Daily Backup', clientToken: 'op-snap-1' });
    assert.equal(snap.state, 'pending');
    assert.equal(snap.volumeId, 'vol-1234567890abcdef0');
    assert.equal(snap.sizeGiB, 30);
    const create = server.of('CreateSnapshot')[0];
    assert.equal(create?.get('Description'), 'Daily Backup');
    assert.deepEqual(list(create ?? new URLSearchParams(), 'TagSpecification.1'), [
      'ResourceType=snapshot',
      'Tag.1.Key=Name',
      'Tag.1.Value=Daily Backup',
      'Tag.2.Key=skygate:client-token',
      'Tag.2.Value=op-snap-1',
    ]);
    await a.deleteSnapshot(snap.nativeId);
    assert.equal(server.of('DeleteSnapshot')[0]?.get('SnapshotId'), 'snap-1234567890abcdef0');
    // Within the consistency window, yet gone: a delete is not eventual consistency.
    assert.equal((await rejection(a.getSnapshot(snap.nativeId))).code, 'not_found');
  });

  it('reads the DescribeVolumes example: in-use, attached as /dev/sdh, no snapshot', async () => {
    answer('DescribeVolumes', { file: 'DescribeVolumes-in-use.xml' });
    assert.deepEqual(await open().getVolume('vol-1234567890abcdef0'), {
      nativeId: 'vol-1234567890abcdef0',
      name: '',
      state: 'in-use',
      sizeGiB: 80,
      zone: 'us-east-1a',
      attachedTo: 'i-1234567890abcdef0',
      device: '/dev/sdh',
      tags: {},
      createdAt: '2025-02-03T23:53:18.000Z',
    });
  });

  it('creates a volume with ClientToken in the first zone, and treats a not-found read of it as eventual consistency until the window closes', async () => {
    mock.timers.enable({ apis: ['Date'], now: T0 });
    answer('DescribeAvailabilityZones', { file: 'DescribeAvailabilityZones-us-west-2.xml' });
    answer('CreateVolume', { file: 'CreateVolume-creating.xml' });
    answer('DescribeVolumes', { file: 'DescribeVolumes-InvalidVolume.NotFound.xml', status: 400 });
    const a = open();
    const vol = await a.createVolume({ name: 'data', sizeGiB: 80, clientToken: 'op-vol-1' });
    assert.equal(vol.nativeId, 'vol-6b60b7c7');
    assert.equal(vol.state, 'creating');
    const p = server.of('CreateVolume')[0];
    assert.equal(p?.get('ClientToken'), 'op-vol-1');
    assert.equal(p?.get('AvailabilityZone'), 'us-west-2a');
    assert.equal(p?.get('Size'), '80');

    const early = await rejection(a.getVolume('vol-6b60b7c7'));
    assert.equal(early.code, 'provider_unavailable', 'retryable: EC2 may not show a new volume at once');
    assert.equal(early.retryAfter, 2);
    mock.timers.tick(60_001);
    assert.equal((await rejection(a.getVolume('vol-6b60b7c7'))).code, 'not_found');
  });

  it('pages with NextToken, slicing a page of 5 when asked for fewer, every volume exactly once', async () => {
    answer(
      'DescribeVolumes',
      { file: 'DescribeVolumes-page1.xml' },
      { file: 'DescribeVolumes-page1.xml' },
      { file: 'DescribeVolumes-page2.xml' },
    );
    const a = open();
    const first = await a.listVolumes({ limit: 2 });
    assert.deepEqual(
      first.items.map((v) => [v.nativeId, v.state, v.name]),
      [
        ['vol-0a1b2c3d4e5f60001', 'available', 'data-1'],
        ['vol-0a1b2c3d4e5f60002', 'creating', 'data-2'],
      ],
    );
    assert.equal(first.items[0]?.snapshotId, 'snap-1234567890abcdef0');
    const second = await a.listVolumes({ limit: 2, marker: first.marker });
    assert.deepEqual(
      second.items.map((v) => [v.nativeId, v.state]),
      [['vol-0a1b2c3d4e5f60003', 'deleting']],
    );
    const third = await a.listVolumes({ limit: 2, marker: second.marker });
    assert.deepEqual(
      third.items.map((v) => [v.nativeId, v.state]),
      [['vol-0a1b2c3d4e5f60004', 'error']],
    );
    assert.equal(third.marker, undefined);
    const sent = server.of('DescribeVolumes').map((p) => [p.get('MaxResults'), p.get('NextToken')]);
    assert.deepEqual(sent, [
      ['5', null],
      ['5', null],
      ['5', 'eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiEXAMPLE='],
    ]);
    assert.equal((await rejection(a.listVolumes({ marker: 'not-ours' }))).field, 'marker');
  });
});

describe('aws catalog: flavors and zones', () => {
  afterEach(() => mock.timers.reset());

  it('walks DescribeInstanceTypes pages into flavors and keeps them for catalogCacheMs', async () => {
    mock.timers.enable({ apis: ['Date'], now: T0 });
    answer(
      'DescribeInstanceTypes',
      { file: 'DescribeInstanceTypes-page1.xml' },
      { file: 'DescribeInstanceTypes-page2.xml' },
      { file: 'DescribeInstanceTypes-page1.xml' },
      { file: 'DescribeInstanceTypes-page2.xml' },
    );
    const a = open({ catalogCacheMs: 60_000 });
    const flavors = await a.listFlavors();
    assert.deepEqual(flavors, [
      { nativeId: 't2.micro', name: 't2.micro', vcpus: 1, memoryMiB: 1024, diskGiB: 0 },
      { nativeId: 't3.small', name: 't3.small', vcpus: 2, memoryMiB: 2048, diskGiB: 0 },
      { nativeId: 'm5d.large', name: 'm5d.large', vcpus: 2, memoryMiB: 8192, diskGiB: 75 },
    ]);
    const pages = server.of('DescribeInstanceTypes');
    assert.deepEqual(
      pages.map((p) => [p.get('MaxResults'), p.get('NextToken')]),
      [
        ['100', null],
        ['100', 'eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiEXAMPLE='],
      ],
    );
    await a.listFlavors();
    assert.equal(server.of('DescribeInstanceTypes').length, 2, 'served from the catalog cache');
    mock.timers.tick(60_001);
    await a.listFlavors();
    assert.equal(server.of('DescribeInstanceTypes').length, 4, 'asked again once the cache aged');
  });

  it('filters instance types when told to', async () => {
    answer('DescribeInstanceTypes', { file: 'DescribeInstanceTypes-page2.xml' });
    await open({ instanceTypes: ['m5d.*'] }).listFlavors();
    assert.deepEqual(list(server.of('DescribeInstanceTypes')[0] ?? new URLSearchParams(), 'Filter.1'), [
      'Name=instance-type',
      'Value.1=m5d.*',
    ]);
  });

  it('lists zones from DescribeAvailabilityZones; health is up, or degraded with an impaired zone', async () => {
    answer(
      'DescribeAvailabilityZones',
      { file: 'DescribeAvailabilityZones-us-west-2.xml' },
      { file: 'DescribeAvailabilityZones-us-west-2.xml' },
      { file: 'DescribeAvailabilityZones-impaired.xml' },
    );
    const a = open();
    assert.deepEqual(await a.zones(), ['us-west-2a', 'us-west-2b', 'us-west-2c', 'us-west-2d']);
    assert.equal((await a.health()).status, 'up');
    const degraded = await a.health();
    assert.equal(degraded.status, 'degraded');
    assert.equal(degraded.message, 'us-west-2d is impaired');
  });
});

/** The aws-elbv2 load balancer against ELBv2 responses built from AWS's API reference examples (test/fixtures/aws/elbv2). */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type AwsElbv2LoadBalancerAdapter, createLoadBalancerAdapter } from '../../adapters/aws-elbv2/index.js';
import { isSkygateError, type SkygateError } from '../../src/core/errors.js';
import { type RecordedAnswer, type RecordedServer, startRecordedServer } from '../helpers/recorded-aws-server.js';

const FIXTURES = 'test/fixtures/aws/elbv2';
const TG = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067';
const quiet = { info() {}, warn() {}, error() {} };

const script = new Map<string, RecordedAnswer[]>();
const answer = (action: string, ...answers: RecordedAnswer[]) => script.set(action, answers);
let server: RecordedServer;

function open(settings: Record<string, unknown> = {}): AwsElbv2LoadBalancerAdapter {
  return createLoadBalancerAdapter({
    providerId: 'aws-lb-test',
    settings: {
      region: 'us-west-2',
      endpoint: server.url,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      ...settings,
    },
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

/** The Query protocol's flattened members of one parameter: `Targets.member.1.Id=...`. */
const members = (params: URLSearchParams | undefined, prefix: string) =>
  [...(params ?? new URLSearchParams()).entries()]
    .filter(([k]) => k.startsWith(`${prefix}.`))
    .map(([k, v]) => `${k.slice(prefix.length + 1)}=${v}`);

before(async () => {
  server = await startRecordedServer(FIXTURES, (action) => {
    const queue = script.get(action);
    if (queue === undefined || queue.length === 0) return undefined;
    return queue.length > 1 ? queue.shift() : queue[0];
  });
});
after(() => server.close());
beforeEach(() => {
  script.clear();
  server.requests.length = 0;
});

describe('aws-elbv2 pools and targets', () => {
  it('lists target groups as pools, scoped to a load balancer when configured', async () => {
    answer('DescribeTargetGroups', { file: 'DescribeTargetGroups-my-targets.xml' });
    const lbArn = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-load-balancer/50dc6c495c0c9188';
    assert.deepEqual(await open({ loadBalancerArn: lbArn }).listPools(), [{ id: TG, name: 'my-targets' }]);
    const [p] = server.of('DescribeTargetGroups');
    assert.equal(p?.get('LoadBalancerArn'), lbArn);
    assert.equal(p?.get('PageSize'), '400');
    assert.match(server.requests[0]?.authorization ?? '', /\/us-west-2\/elasticloadbalancing\/aws4_request/);
  });

  it('maps target health: healthy, unused (not in use) as unknown, unhealthy; a draining target is listed only when parked', async () => {
    answer(
      'DescribeTags',
      { file: 'DescribeTags-plain.xml' },
      { file: 'DescribeTags-plain.xml' },
      { file: 'DescribeTags-draining-10.0.0.5.xml' },
    );
    answer('DescribeTargetHealth', { file: 'DescribeTargetHealth-group.xml' }, { file: 'DescribeTargetHealth-draining.xml' });
    const lb = open();
    const group = await lb.listTargets(TG);
    // The reference example describes the same target twice; a target is listed once, as its last description says.
    assert.deepEqual(group, [{ id: 'i-0f76fade:80', address: 'i-0f76fade', port: 80, state: 'active', health: 'healthy' }]);
    const unhealthy = { id: '10.0.0.6:8080', address: '10.0.0.6', port: 8080, state: 'active', health: 'unhealthy' };
    // Drained without a park tag: deregistered, leaving the group within its deregistration delay.
    assert.deepEqual(await lb.listTargets(TG), [unhealthy]);
    assert.deepEqual(await lb.listTargets(TG), [
      { id: '10.0.0.5:8080', address: '10.0.0.5', port: 8080, state: 'draining', health: 'draining' },
      unhealthy,
    ]);
    assert.equal(server.of('DescribeTargetHealth')[0]?.get('TargetGroupArn'), TG);
  });

  it('registers a target and reports the health ELBv2 gives it (initial is unknown)', async () => {
    answer('RegisterTargets', { file: 'RegisterTargets-ok.xml' });
    answer('RemoveTags', { file: 'RemoveTags-ok.xml' });
    answer('DescribeTargetHealth', { file: 'DescribeTargetHealth-initial.xml' });
    const target = await open().registerTarget(TG, { address: '10.0.0.5', port: 8080, weight: 1 });
    assert.deepEqual(target, { id: '10.0.0.5:8080', address: '10.0.0.5', port: 8080, state: 'active', health: 'unknown' });
    assert.deepEqual(members(server.of('RegisterTargets')[0], 'Targets.member.1'), ['Id=10.0.0.5', 'Port=8080']);
    assert.deepEqual(members(server.of('RemoveTags')[0], 'TagKeys.member'), [
      '1=skygate:maintenance:10.0.0.5:8080',
      '2=skygate:draining:10.0.0.5:8080',
    ]);
    assert.deepEqual(members(server.of('DescribeTargetHealth')[0], 'Targets.member.1'), ['Id=10.0.0.5', 'Port=8080']);
  });

  it('refuses what ELBv2 cannot do before calling it: a weight, a bad port', async () => {
    const lb = open();
    const weight = await rejection(lb.registerTarget(TG, { address: '10.0.0.5', port: 8080, weight: 5 }));
    assert.equal(weight.code, 'unsupported');
    assert.equal(weight.field, 'weight');
    assert.equal((await rejection(lb.registerTarget(TG, { address: '10.0.0.5', port: 0 }))).field, 'port');
    assert.equal((await rejection(lb.setTargetState(TG, 'no-port', 'active'))).field, 'targetId');
    assert.equal(server.requests.length, 0);
  });

  it('puts a target in maintenance: deregistered and tagged, and still listed after draining', async () => {
    answer(
      'DescribeTargetHealth',
      { file: 'DescribeTargetHealth-initial.xml' },
      { file: 'DescribeTargetHealth-one-draining.xml' },
      { file: 'DescribeTargetHealth-empty.xml' },
    );
    answer('DescribeTags', { file: 'DescribeTags-plain.xml' }, { file: 'DescribeTags-maintenance-10.0.0.5.xml' });
    answer('DeregisterTargets', { file: 'DeregisterTargets-ok.xml' });
    answer('AddTags', { file: 'AddTags-ok.xml' });
    answer('RemoveTags', { file: 'RemoveTags-ok.xml' });
    const lb = open();
    await lb.setTargetState(TG, '10.0.0.5:8080', 'maintenance');
    assert.deepEqual(members(server.of('DeregisterTargets')[0], 'Targets.member.1'), ['Id=10.0.0.5', 'Port=8080']);
    assert.equal(members(server.of('AddTags')[0], 'Tags.member.1')[0], 'Key=skygate:maintenance:10.0.0.5:8080');
    assert.deepEqual(members(server.of('RemoveTags')[0], 'TagKeys.member'), ['1=skygate:draining:10.0.0.5:8080']);
    const parked = { id: '10.0.0.5:8080', address: '10.0.0.5', port: 8080, state: 'maintenance', health: 'maintenance' };
    assert.deepEqual(await lb.listTargets(TG), [parked], 'while ELBv2 drains it');
    assert.deepEqual(await lb.listTargets(TG), [parked], 'once ELBv2 has forgotten it');
  });

  it('drains a target (deregistered, tagged draining) and activates it again (registered, untagged)', async () => {
    answer('DescribeTargetHealth', { file: 'DescribeTargetHealth-initial.xml' }, { file: 'DescribeTargetHealth-empty.xml' });
    answer('DescribeTags', { file: 'DescribeTags-plain.xml' }, { file: 'DescribeTags-draining-10.0.0.5.xml' });
    answer('DeregisterTargets', { file: 'DeregisterTargets-ok.xml' });
    answer('AddTags', { file: 'AddTags-ok.xml' });
    answer('RegisterTargets', { file: 'RegisterTargets-ok.xml' });
    answer('RemoveTags', { file: 'RemoveTags-ok.xml' });
    const lb = open();
    await lb.setTargetState(TG, '10.0.0.5:8080', 'draining');
    // Drained past the deregistration delay, ELBv2 no longer describes it: the tag still makes it known.
    await lb.setTargetState(TG, '10.0.0.5:8080', 'active');
    const changes = server.requests.map((r) => r.action).filter((a) => !a.startsWith('Describe'));
    assert.deepEqual(changes, ['DeregisterTargets', 'AddTags', 'RemoveTags', 'RegisterTargets', 'RemoveTags']);
    assert.equal(members(server.of('AddTags')[0], 'Tags.member.1')[0], 'Key=skygate:draining:10.0.0.5:8080');
  });

  it('refuses to change the state of a target the group does not hold', async () => {
    answer('DescribeTargetHealth', { file: 'DescribeTargetHealth-not-registered.xml' });
    answer('DescribeTags', { file: 'DescribeTags-plain.xml' });
    const err = await rejection(open().setTargetState(TG, '10.0.0.9:8080', 'active'));
    assert.deepEqual([err.code, err.field], ['not_found', 'targetId']);
    assert.equal(server.of('RegisterTargets').length, 0);
  });

  it('deregisters a registered target, and answers not_found for one that is not', async () => {
    answer(
      'DescribeTargetHealth',
      { file: 'DescribeTargetHealth-one-healthy.xml' },
      { file: 'DescribeTargetHealth-not-registered.xml' },
    );
    answer('DescribeTags', { file: 'DescribeTags-plain.xml' });
    answer('DeregisterTargets', { file: 'DeregisterTargets-ok.xml' });
    answer('RemoveTags', { file: 'RemoveTags-ok.xml' });
    const lb = open();
    await lb.deregisterTarget(TG, 'i-0f76fade:80');
    assert.deepEqual(members(server.of('DeregisterTargets')[0], 'Targets.member.1'), ['Id=i-0f76fade', 'Port=80']);
    const err = await rejection(lb.deregisterTarget(TG, '10.0.0.9:8080'));
    assert.equal(err.code, 'not_found');
    assert.equal(server.of('DeregisterTargets').length, 1);
  });

  it('resolves a pool given by name once, and an unknown one is not_found', async () => {
    answer(
      'DescribeTargetGroups',
      { file: 'DescribeTargetGroups-my-targets.xml' },
      { file: 'DescribeTargetGroups-TargetGroupNotFound.xml', status: 400 },
    );
    answer('DescribeTargetHealth', { file: 'DescribeTargetHealth-one-healthy.xml' });
    answer('DescribeTags', { file: 'DescribeTags-plain.xml' });
    const lb = open();
    await lb.listTargets('my-targets');
    await lb.listTargets('my-targets');
    assert.equal(server.of('DescribeTargetGroups').length, 1);
    assert.equal(server.of('DescribeTargetGroups')[0]?.get('Names.member.1'), 'my-targets');
    const err = await rejection(lb.listTargets('gone'));
    assert.equal(err.code, 'not_found');
    assert.equal(err.field, 'poolId');
  });
});

describe('aws-elbv2 errors', () => {
  it('maps Throttling to throttled with a retryAfter and the request id', async () => {
    answer('DescribeTargetHealth', { file: 'DescribeTargetHealth-Throttling.xml', status: 400 });
    answer('DescribeTags', { file: 'DescribeTags-plain.xml' });
    const err = await rejection(open().listTargets(TG));
    assert.equal(err.code, 'throttled');
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfter, 1);
    assert.equal(err.requestId, '7e80d173-c5cc-4c02-81a2-example');
  });

  it('maps InvalidTarget on register to invalid_input naming the address', async () => {
    answer('RegisterTargets', { file: 'RegisterTargets-InvalidTarget.xml', status: 400 });
    const err = await rejection(open().registerTarget(TG, { address: 'i-0f76fade', port: 80 }));
    assert.equal(err.code, 'invalid_input');
    assert.equal(err.field, 'address');
    assert.equal(err.requestId, '8f91e284-d6dd-4d13-92b3-example');
  });

  it('refuses bad settings naming the setting', () => {
    assert.throws(
      () =>
        createLoadBalancerAdapter({
          providerId: 'x',
          settings: { region: 'us-west-2', loadBalancerArn: 'lb-1' },
          dataDir: '',
          log: quiet,
        }),
      (e: unknown) => isSkygateError(e) && e.field === 'loadBalancerArn',
    );
  });
});

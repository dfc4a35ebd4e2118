/**
 * The load balancer contract against the aws-elbv2 adapter, over real HTTP and SigV4 to a recorded-response server
 * (test/fixtures/aws/elbv2). No ELBv2-compatible service runs here, so a scenario router plays the target group:
 * it keeps the one target's registration and the group's tags, as ELBv2 documents them (DeregisterTargets leaves a
 * target draining, Target.DeregistrationInProgress), and answers each request with the recorded file that matches.
 */
import type { RecordedAnswer } from '../helpers/recorded-aws-server.js';
import { startRecordedServer } from '../helpers/recorded-aws-server.js';
import { createLoadBalancerAdapter } from '../../adapters/aws-elbv2/index.js';
import { runLoadBalancerContract } from './load-balancer-contract.js';

const FIXTURES = 'test/fixtures/aws/elbv2';
const POOL = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067';
const GONE = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/gone/0000000000000000';
/** The target of the recorded files (`DescribeTargetHealth-initial.xml` and its kin). */
const TARGET = { address: '10.0.0.5', port: 8080 };
const TARGET_ID = '10.0.0.5:8080';
/** The target `DescribeTargetHealth-not-registered.xml` describes. */
const UNKNOWN_TARGET_ID = '10.0.0.9:8080';
const quiet = { info() {}, warn() {}, error() {} };

/** The target group as ELBv2 would hold it through the contract. */
class TargetGroupScenario {
  /** absent: never registered (or drained); registered; draining: deregistered, its deregistration delay running. */
  private target: 'absent' | 'registered' | 'draining' = 'absent';
  private readonly tags = new Set<string>();

  answer(action: string, params: URLSearchParams): RecordedAnswer | undefined {
    const group = params.get('TargetGroupArn') ?? params.get('ResourceArns.member.1');
    if (group === GONE) return { file: 'DescribeTargetGroups-TargetGroupNotFound.xml', status: 400 };
    const asked = params.get('Targets.member.1.Id');
    switch (action) {
      case 'DescribeTargetGroups':
        return { file: 'DescribeTargetGroups-my-targets.xml' };
      case 'RegisterTargets':
        this.target = 'registered';
        return { file: 'RegisterTargets-ok.xml' };
      case 'DeregisterTargets':
        if (this.target === 'registered') this.target = 'draining';
        return { file: 'DeregisterTargets-ok.xml' };
      case 'AddTags':
        this.tags.add(params.get('Tags.member.1.Key') ?? '');
        return { file: 'AddTags-ok.xml' };
      case 'RemoveTags':
        for (const [k, v] of params) if (k.startsWith('TagKeys.member.')) this.tags.delete(v);
        return { file: 'RemoveTags-ok.xml' };
      case 'DescribeTags':
        if (this.tags.has(`skygate:maintenance:${TARGET_ID}`)) return { file: 'DescribeTags-maintenance-10.0.0.5.xml' };
        if (this.tags.has(`skygate:draining:${TARGET_ID}`)) return { file: 'DescribeTags-draining-10.0.0.5.xml' };
        return { file: 'DescribeTags-plain.xml' };
      case 'DescribeTargetHealth':
        if (asked === '10.0.0.9') return { file: 'DescribeTargetHealth-not-registered.xml' };
        if (this.target === 'registered') return { file: 'DescribeTargetHealth-initial.xml' };
        if (this.target === 'draining') {
          return { file: asked === undefined ? 'DescribeTargetHealth-draining.xml' : 'DescribeTargetHealth-one-draining.xml' };
        }
        return {
          file: asked === undefined ? 'DescribeTargetHealth-empty.xml' : 'DescribeTargetHealth-not-registered-10.0.0.5.xml',
        };
      default:
        return undefined;
    }
  }
}

runLoadBalancerContract('aws-elbv2 (recorded responses)', async () => {
  const scenario = new TargetGroupScenario();
  const server = await startRecordedServer(FIXTURES, (action, params) => scenario.answer(action, params));
  const lb = createLoadBalancerAdapter({
    providerId: 'aws-lb-contract',
    settings: {
      region: 'us-west-2',
      endpoint: server.url,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    },
    dataDir: '',
    log: quiet,
  });
  return {
    lb,
    poolId: POOL,
    target: TARGET,
    unknownTargetId: UNKNOWN_TARGET_ID,
    unknownPoolId: GONE,
    timeoutMs: 10_000,
    cleanup: async () => {
      await lb.close();
      await server.close();
    },
  };
});

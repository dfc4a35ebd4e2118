/** The aws-elbv2 load balancer: target groups as pools, their registered targets as targets, through @aws-sdk/client-elastic-load-balancing-v2. */
import {
  AddTagsCommand,
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  RemoveTagsCommand,
  type TargetDescription,
  type TargetHealthDescription,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  SkygateError,
  invalid,
  notFound,
  type AdapterContext,
  type ErrorCode,
  type LbTarget,
  type LoadBalancerAdapter,
  type TargetHealth,
  type TargetState,
} from '../../src/core/index.js';
import { COMMON_AWS_ERRORS, fromAwsError } from '../aws/aws-errors.js';
import { type AwsClientSettings, parseAwsClientSettings, settingError, warnUnknown } from '../aws/aws-settings.js';

/**
 * ELBv2 has no maintenance state, and forgets a drained target once its deregistration delay ends: a target put
 * in maintenance or draining is deregistered and remembered in a tag of its target group, `<prefix><address:port>`.
 */
export const MAINTENANCE_TAG_PREFIX = 'skygate:maintenance:';
export const DRAINING_TAG_PREFIX = 'skygate:draining:';
const PARK_PREFIX = { maintenance: MAINTENANCE_TAG_PREFIX, draining: DRAINING_TAG_PREFIX } as const;
type Parked = keyof typeof PARK_PREFIX;

/** ELBv2's codes, as sent (`TargetGroupNotFound`) and as the SDK names its modeled exceptions (`...Exception`). */
export const ELBV2_ERRORS: Readonly<Record<string, ErrorCode>> = {
  ...COMMON_AWS_ERRORS,
  ...withExceptionNames({
    TargetGroupNotFound: 'not_found',
    LoadBalancerNotFound: 'not_found',
    InvalidTarget: 'invalid_input',
    DuplicateTagKeys: 'invalid_input',
    TooManyTargets: 'quota_exceeded',
    TooManyRegistrationsForTargetId: 'quota_exceeded',
    TooManyTags: 'quota_exceeded',
    HealthUnavailable: 'provider_unavailable',
    ResourceInUse: 'conflict',
    OperationNotPermitted: 'conflict',
  }),
};

const HEALTH: Readonly<Record<string, TargetHealth>> = {
  healthy: 'healthy',
  unhealthy: 'unhealthy',
  draining: 'draining',
  'unhealthy.draining': 'draining',
  initial: 'unknown',
  unused: 'unknown',
  unavailable: 'unknown',
};
const TARGET_STATES: ReadonlySet<string> = new Set<TargetState>(['active', 'draining', 'maintenance']);

export interface Elbv2Settings extends AwsClientSettings {
  /** Only the target groups of this load balancer are pools; absent means every target group of the account and region. */
  loadBalancerArn?: string;
}

export function parseElbv2Settings(
  providerId: string,
  raw: Record<string, unknown>,
  warn: (obj: object, msg?: string) => void,
): Elbv2Settings {
  warnUnknown(
    raw,
    ['region', 'endpoint', 'credentials', 'maxAttempts', 'retryMode', 'loadBalancerArn'],
    providerId,
    warn,
    'aws-elbv2',
  );
  const bad = settingError('aws-elbv2', providerId);
  const lb = raw.loadBalancerArn;
  if (lb !== undefined && (typeof lb !== 'string' || !lb.startsWith('arn:')))
    throw bad('loadBalancerArn', 'must be a load balancer ARN');
  return { ...parseAwsClientSettings(raw, bad), ...(lb !== undefined && { loadBalancerArn: lb }) };
}

export class AwsElbv2LoadBalancerAdapter implements LoadBalancerAdapter {
  readonly type = 'aws-elbv2';
  /** Target group names already resolved to ARNs (a pool may be named either way). */
  private readonly arns = new Map<string, string>();

  constructor(
    readonly providerId: string,
    private readonly settings: Elbv2Settings,
    private readonly client: ElasticLoadBalancingV2Client,
  ) {}

  static open(ctx: AdapterContext): AwsElbv2LoadBalancerAdapter {
    const s = parseElbv2Settings(ctx.providerId, ctx.settings, (obj, msg) => ctx.log.warn(obj, msg));
    const client = new ElasticLoadBalancingV2Client({
      region: s.region,
      ...(s.endpoint !== undefined && { endpoint: s.endpoint }),
      ...(s.credentials !== undefined && { credentials: s.credentials }),
      maxAttempts: s.maxAttempts,
      retryMode: s.retryMode,
    });
    return new AwsElbv2LoadBalancerAdapter(ctx.providerId, s, client);
  }

  /** Target groups, every page; the id is the ARN, which is what ELBv2 takes everywhere. */
  async listPools(): Promise<Array<{ id: string; name: string }>> {
    // This paginator has no page-size key of its own: PageSize goes in the input (400 is ELBv2's most).
    const input = {
      PageSize: 400,
      ...(this.settings.loadBalancerArn !== undefined && { LoadBalancerArn: this.settings.loadBalancerArn }),
    };
    const pools: Array<{ id: string; name: string }> = [];
    await this.call(async () => {
      for await (const page of paginateDescribeTargetGroups({ client: this.client }, input)) {
        for (const g of page.TargetGroups ?? []) {
          if (g.TargetGroupArn !== undefined) pools.push({ id: g.TargetGroupArn, name: g.TargetGroupName ?? g.TargetGroupArn });
        }
      }
    });
    return pools;
  }

  /** Registered targets with their health, and the targets skygate put in maintenance or draining (remembered by tag). */
  async listTargets(poolId: string): Promise<LbTarget[]> {
    const arn = await this.resolve(poolId);
    const [health, parked] = await Promise.all([this.health(arn), this.parked(arn)]);
    const targets = new Map<string, LbTarget>();
    for (const d of health) {
      const t = toTarget(d, parked);
      if (!leaving(t, parked)) targets.set(t.id, t);
    }
    // A parked target ELBv2 has finished draining is no longer described; skygate still knows where it was.
    for (const [id, state] of parked) {
      if (!targets.has(id)) targets.set(id, { ...parseTargetId(id), id, state, health: state });
    }
    return [...targets.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** RegisterTargets; ELBv2 has no per-target weight, so only the neutral weight 1 is accepted. */
  async registerTarget(poolId: string, target: { address: string; port: number; weight?: number }): Promise<LbTarget> {
    const { address, port, weight } = target;
    if (typeof address !== 'string' || address.length === 0 || address.length > 255 || /[\s/]/.test(address)) {
      throw invalid('address', 'must be an instance id, an IP address or a host name');
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      throw invalid('port', 'must be 1..65535');
    if (weight !== undefined && weight !== 1) {
      throw new SkygateError('unsupported', 'aws-elbv2: target groups have no per-target weight (only 1 is accepted)', {
        field: 'weight',
        provider: this.providerId,
      });
    }
    const arn = await this.resolve(poolId);
    const id = `${address}:${port}`;
    await this.activate(arn, { Id: address, Port: port });
    const [described] = await this.health(arn, [{ Id: address, Port: port }]);
    return described === undefined ? { id, address, port, state: 'active', health: 'unknown' } : toTarget(described, new Map());
  }

  async deregisterTarget(poolId: string, targetId: string): Promise<void> {
    const arn = await this.resolve(poolId);
    const target = toDescription(targetId);
    await this.known(arn, target, targetId);
    await this.call(() => this.client.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [target] })));
    await this.unpark(arn, targetId);
  }

  /**
   * active = registered; draining = deregistered (ELBv2 drains it for the group's deregistration delay);
   * maintenance = deregistered too. Both are tagged on the target group, so listTargets keeps showing them
   * after ELBv2 has forgotten them. A target the pool does not hold is not_found, as on every load balancer.
   */
  async setTargetState(poolId: string, targetId: string, state: TargetState): Promise<void> {
    if (!TARGET_STATES.has(state)) throw invalid('state', `must be one of ${[...TARGET_STATES].join(', ')}`);
    const arn = await this.resolve(poolId);
    const target = toDescription(targetId);
    await this.known(arn, target, targetId);
    if (state === 'active') {
      await this.activate(arn, target);
      return;
    }
    await this.call(() => this.client.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [target] })));
    const tag = { Key: PARK_PREFIX[state] + targetId, Value: new Date().toISOString() };
    await this.call(() => this.client.send(new AddTagsCommand({ ResourceArns: [arn], Tags: [tag] })));
    await this.unpark(arn, targetId, state);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async activate(arn: string, target: TargetDescription): Promise<void> {
    await this.call(() => this.client.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [target] })), {
      InvalidTarget: 'address',
    });
    await this.unpark(arn, `${target.Id}:${target.Port}`);
  }

  /** Removes the target's park tags, but the one of `keep`. */
  private async unpark(arn: string, targetId: string, keep?: Parked): Promise<void> {
    const keys = (Object.keys(PARK_PREFIX) as Parked[]).filter((p) => p !== keep).map((p) => PARK_PREFIX[p] + targetId);
    // Removing a tag the group does not carry is not an error for ELBv2.
    await this.call(() => this.client.send(new RemoveTagsCommand({ ResourceArns: [arn], TagKeys: keys })));
  }

  /** Fails with not_found unless the group holds the target: registered and not leaving, or parked by skygate. */
  private async known(arn: string, target: TargetDescription, targetId: string): Promise<void> {
    const [health, parked] = await Promise.all([this.health(arn, [target]), this.parked(arn)]);
    if (parked.has(targetId)) return;
    const described = health.find((d) => `${d.Target?.Id}:${d.Target?.Port}` === targetId);
    if (
      described === undefined ||
      described.TargetHealth?.Reason === 'Target.NotRegistered' ||
      leaving(toTarget(described, parked), parked)
    )
      throw notFound('target', targetId, 'targetId');
  }

  private async health(arn: string, targets?: TargetDescription[]): Promise<TargetHealthDescription[]> {
    const out = await this.call(() =>
      this.client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: arn, ...(targets !== undefined && { Targets: targets }) }),
      ),
    );
    return out.TargetHealthDescriptions ?? [];
  }

  /** The targets skygate parked in this group, by id, with the state they were parked in. */
  private async parked(arn: string): Promise<Map<string, Parked>> {
    const out = await this.call(() => this.client.send(new DescribeTagsCommand({ ResourceArns: [arn] })));
    const tags = out.TagDescriptions?.find((d) => d.ResourceArn === arn)?.Tags ?? [];
    const parked = new Map<string, Parked>();
    for (const { Key: key } of tags) {
      for (const state of Object.keys(PARK_PREFIX) as Parked[]) {
        if (key?.startsWith(PARK_PREFIX[state])) parked.set(key.slice(PARK_PREFIX[state].length), state);
      }
    }
    return parked;
  }

  /** A pool given by name is looked up once; an ARN is used as it is. */
  private async resolve(poolId: string): Promise<string> {
    if (typeof poolId !== 'string' || poolId.length === 0) throw invalid('poolId', 'must be a target group ARN or name');
    if (poolId.startsWith('arn:')) return poolId;
    const known = this.arns.get(poolId);
    if (known !== undefined) return known;
    const out = await this.call(() => this.client.send(new DescribeTargetGroupsCommand({ Names: [poolId] }))).catch(
      (e: unknown) => {
        if (e instanceof SkygateError && e.code === 'not_found') throw notFound('pool', poolId, 'poolId');
        throw e;
      },
    );
    const arn = out.TargetGroups?.[0]?.TargetGroupArn;
    if (arn === undefined) throw notFound('pool', poolId, 'poolId');
    this.arns.set(poolId, arn);
    return arn;
  }

  private async call<T>(fn: () => Promise<T>, fields?: Readonly<Record<string, string>>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw fromAwsError(e, { provider: this.providerId, codes: ELBV2_ERRORS, ...(fields !== undefined && { fields }) });
    }
  }
}

function toTarget(d: TargetHealthDescription, parked: ReadonlyMap<string, Parked>): LbTarget {
  const address = d.Target?.Id ?? '';
  const port = d.Target?.Port ?? 0;
  const id = `${address}:${port}`;
  const health = HEALTH[d.TargetHealth?.State ?? ''] ?? 'unknown';
  const state = parked.get(id);
  if (state === 'maintenance') return { id, address, port, state, health: 'maintenance' };
  if (state === 'draining') return { id, address, port, state, health: 'draining' };
  return { id, address, port, state: health === 'draining' ? 'draining' : 'active', health };
}

/**
 * A target ELBv2 drains that skygate did not park was deregistered: it is leaving the group (within the group's
 * deregistration delay), so it is no longer one of the pool's targets, as on every other load balancer.
 */
function leaving(t: LbTarget, parked: ReadonlyMap<string, Parked>): boolean {
  return t.health === 'draining' && !parked.has(t.id);
}

/** `address:port`, split at the last colon so IPv6 addresses survive. */
function parseTargetId(targetId: string): { address: string; port: number } {
  const at = typeof targetId === 'string' ? targetId.lastIndexOf(':') : -1;
  const port = Number(at < 0 ? Number.NaN : targetId.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw invalid('targetId', `'${String(targetId)}' is not address:port`);
  return { address: targetId.slice(0, at), port };
}

function toDescription(targetId: string): TargetDescription {
  const { address, port } = parseTargetId(targetId);
  return { Id: address, Port: port };
}

function withExceptionNames(codes: Record<string, ErrorCode>): Record<string, ErrorCode> {
  return Object.fromEntries(
    Object.entries(codes).flatMap(([k, v]) => [
      [k, v],
      [`${k}Exception`, v],
    ]),
  );
}

/**
 * Checks a protection group's spec as an operator sends it: fills in the defaults and answers the complete spec, or
 * throws one `invalid_input` listing every problem, each naming its field (`replication.rpoSeconds`, `standbys[1]`).
 * What it refers to (providers, the load balancer's pools, the instances) is looked up through `GroupLookups`.
 */
import { SkygateError } from '../core/errors.js';
import { parseId } from '../core/ids.js';
import type { Instance } from '../core/model.js';
import { checkName } from '../core/name-policy.js';
import { Problems } from '../portability/ovf-problems.js';
import { checkHealthCheckSpec } from './health-check-spec.js';
import type { FailoverMode, ProtectionGroupSpec, StandbyMode } from './protection-group.js';

/** What the check needs to know about the world; the service answers it from the registry and the inventory. */
export interface GroupLookups {
  /** The configured providers' ids. */
  providers(): string[];
  /** The pools of `lbProvider`'s load balancer; undefined when that provider has none. */
  lbPools(lbProvider: string): Promise<Array<{ id: string; name: string }> | undefined>;
  /** One instance by skygate id, read from its provider; undefined when it does not exist. */
  instance(id: string): Promise<Instance | undefined>;
  /** The instances at `provider` carrying every tag of `selector`. */
  instancesBySelector(provider: string, selector: Record<string, string>): Promise<Instance[]>;
}

export const GROUP_DEFAULTS = {
  standbyMode: 'cold' as StandbyMode,
  retain: 3,
  failoverMode: 'automatic' as FailoverMode,
};

/** A week: a longer RPO is not protection, and a schedule derived from it stays far from setTimeout's 2^31 ms limit. */
export const MAX_RPO_SECONDS = 604_800;
export const MAX_RETAIN = 100;
export const MAX_MEMBERS = 100;
const MAX_TAG_LENGTH = 128;

const TOP_FIELDS = [
  'name',
  'primary',
  'instances',
  'standbys',
  'standbyMode',
  'replication',
  'healthCheck',
  'traffic',
  'failoverMode',
  'orderTag',
];
/** The fields a PATCH may change; the rest identify the group and what it protects. */
export const MUTABLE_FIELDS: ReadonlySet<string> = new Set([
  'standbys',
  'standbyMode',
  'replication',
  'healthCheck',
  'failoverMode',
  'orderTag',
]);
const INSTANCE_FIELDS = ['ids', 'selector'];
const REPLICATION_FIELDS = ['rpoSeconds', 'retain'];
const TRAFFIC_FIELDS = ['lbProvider', 'poolId', 'port'];

export interface CheckedGroup {
  spec: ProtectionGroupSpec;
  /** The instances the spec selects at its primary (empty when `existing` was given: they are not looked up again). */
  instances: Instance[];
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** The complete spec, defaults filled in; see `checkProtectionGroup`. */
export async function checkProtectionGroupSpec(raw: unknown, lookups: GroupLookups): Promise<ProtectionGroupSpec> {
  return (await checkProtectionGroup(raw, lookups)).spec;
}

/**
 * Checks `raw` and answers the complete spec with the instances it selects. With `existing` (a PATCH, merged onto the
 * stored spec by the caller), what cannot change (name, primary, instances, traffic) is taken as stored and not looked
 * up again: after a failover the first primary's instances may be long gone.
 */
export async function checkProtectionGroup(
  raw: unknown,
  lookups: GroupLookups,
  existing?: ProtectionGroupSpec,
): Promise<CheckedGroup> {
  const problems = new Problems();
  if (!isObject(raw)) {
    problems.error('body', 'must be an object: the protection group spec');
    problems.throwIfAny();
  }
  const given = raw as Obj;
  unknownKeys(given, TOP_FIELDS, '', problems);
  const providers = new Set(lookups.providers());

  const name = existing ? existing.name : checkField(problems, () => checkName(given.name, 'name'));
  const primary = existing ? existing.primary : checkProvider(given.primary, 'primary', providers, problems);
  const standbys = checkStandbys(given.standbys, primary, providers, problems);
  const standbyMode = oneOf(given.standbyMode ?? GROUP_DEFAULTS.standbyMode, ['cold', 'warm'], 'standbyMode', problems);
  const failoverMode = oneOf(
    given.failoverMode ?? GROUP_DEFAULTS.failoverMode,
    ['automatic', 'manual'],
    'failoverMode',
    problems,
  );
  const replication = checkReplication(given.replication, problems);
  const orderTag = checkOrderTag(given.orderTag, problems);
  const traffic = existing ? existing.traffic : await checkTraffic(given.traffic, providers, lookups, problems);
  const healthCheck = checkHealth(
    given.healthCheck,
    existing?.traffic.port ?? (given.traffic as Obj | undefined)?.port,
    problems,
  );

  let instances: Instance[] = [];
  let selection: ProtectionGroupSpec['instances'] | undefined = existing?.instances;
  if (!existing) {
    selection = checkSelection(given.instances, problems);
    if (selection && primary !== undefined) {
      instances = await selectInstances(selection, primary, lookups, problems);
      checkAddresses(instances, problems);
      if (orderTag !== undefined) checkOrders(instances, orderTag, problems);
    }
  }
  problems.throwIfAny();
  const spec: ProtectionGroupSpec = {
    name: name as string,
    primary: primary as string,
    instances: selection as ProtectionGroupSpec['instances'],
    standbys: standbys as string[],
    standbyMode: standbyMode as StandbyMode,
    replication: replication as ProtectionGroupSpec['replication'],
    healthCheck: healthCheck as ProtectionGroupSpec['healthCheck'],
    traffic: traffic as ProtectionGroupSpec['traffic'],
    failoverMode: failoverMode as FailoverMode,
    ...(orderTag !== undefined && { orderTag }),
  };
  return { spec, instances };
}

/** The numeric launch tier of an instance by the group's order tag (0 when it has none). */
export function orderOf(instance: Instance, orderTag: string | undefined): number {
  const value = orderTag === undefined ? undefined : instance.tags[orderTag];
  return value === undefined ? 0 : Number(value);
}

// ---------------------------------------------------------------- the parts

/** Runs a check that throws (the shared name and health check policies) and records what it threw. */
function checkField<T>(problems: Problems, check: () => T): T | undefined {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof SkygateError) || e.code !== 'invalid_input') throw e;
    for (const x of e.errors ?? [{ field: e.field ?? 'body', reason: e.message }]) problems.error(x.field, x.reason);
    return undefined;
  }
}

function unknownKeys(obj: Obj, known: string[], at: string, problems: Problems): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) problems.error(`${at}${k}`, `is not a field here (known: ${known.join(', ')})`);
  }
}

function oneOf(v: unknown, allowed: string[], field: string, problems: Problems): string | undefined {
  if (typeof v === 'string' && allowed.includes(v)) return v;
  problems.error(field, `must be one of ${allowed.join(', ')}`);
  return undefined;
}

function checkProvider(v: unknown, field: string, providers: Set<string>, problems: Problems): string | undefined {
  if (typeof v !== 'string' || v.length === 0) {
    problems.error(field, 'must be a provider id');
    return undefined;
  }
  if (!providers.has(v)) {
    problems.error(field, `provider '${v}' is not configured (known: ${[...providers].join(', ')})`);
    return undefined;
  }
  return v;
}

function checkStandbys(
  v: unknown,
  primary: string | undefined,
  providers: Set<string>,
  problems: Problems,
): string[] | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    problems.error('standbys', 'must list at least one provider id to fail over to');
    return undefined;
  }
  const seen = new Set<string>();
  let ok = true;
  for (const [i, s] of v.entries()) {
    const field = `standbys[${i}]`;
    const id = checkProvider(s, field, providers, problems);
    if (id === undefined) ok = false;
    else if (id === primary) {
      problems.error(field, `'${id}' is the primary: a standby must be another site`);
      ok = false;
    } else if (seen.has(id)) {
      problems.error(field, `'${id}' is listed twice`);
      ok = false;
    }
    if (id !== undefined) seen.add(id);
  }
  return ok ? [...seen] : undefined;
}

function checkReplication(v: unknown, problems: Problems): ProtectionGroupSpec['replication'] | undefined {
  if (!isObject(v)) {
    problems.error('replication', 'must be an object { rpoSeconds, retain? }');
    return undefined;
  }
  unknownKeys(v, REPLICATION_FIELDS, 'replication.', problems);
  const { rpoSeconds, retain = GROUP_DEFAULTS.retain } = v;
  let ok = true;
  if (typeof rpoSeconds !== 'number' || !Number.isFinite(rpoSeconds) || rpoSeconds <= 0 || rpoSeconds > MAX_RPO_SECONDS) {
    problems.error(
      'replication.rpoSeconds',
      `must be a number of seconds above 0 and at most ${MAX_RPO_SECONDS} (the most data a failover may lose)`,
    );
    ok = false;
  }
  if (!isInt(retain) || retain < 1 || retain > MAX_RETAIN) {
    problems.error('replication.retain', `must be an integer from 1 to ${MAX_RETAIN} (replicas kept per member and site)`);
    ok = false;
  }
  return ok ? { rpoSeconds: rpoSeconds as number, retain: retain as number } : undefined;
}

function checkOrderTag(v: unknown, problems: Problems): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TAG_LENGTH) {
    problems.error('orderTag', `must be a tag key of 1 to ${MAX_TAG_LENGTH} characters`);
    return undefined;
  }
  return v;
}

/** The health check; its port defaults to the traffic port (the workload checked where it serves). */
function checkHealth(v: unknown, trafficPort: unknown, problems: Problems) {
  if (v !== undefined && !isObject(v)) {
    problems.error('healthCheck', 'must be an object (every field has a default)');
    return undefined;
  }
  const given = { ...(v as Obj | undefined) };
  // A traffic port that is refused is reported there; the check's other fields are still checked, against a stand-in.
  if (given.port === undefined) given.port = isInt(trafficPort) && trafficPort >= 1 && trafficPort <= 65535 ? trafficPort : 1;
  return checkField(problems, () => checkHealthCheckSpec(given, 'healthCheck'));
}

async function checkTraffic(
  v: unknown,
  providers: Set<string>,
  lookups: GroupLookups,
  problems: Problems,
): Promise<ProtectionGroupSpec['traffic'] | undefined> {
  if (!isObject(v)) {
    problems.error('traffic', 'must be an object { lbProvider, poolId, port }');
    return undefined;
  }
  unknownKeys(v, TRAFFIC_FIELDS, 'traffic.', problems);
  const { lbProvider, poolId, port } = v;
  let ok = true;
  if (!isInt(port) || port < 1 || port > 65535) {
    problems.error('traffic.port', 'must be an integer from 1 to 65535 (the port each instance serves on)');
    ok = false;
  }
  if (typeof poolId !== 'string' || poolId.length === 0) {
    problems.error('traffic.poolId', 'must be the id of a pool of the load balancer');
    ok = false;
  }
  const lb = checkProvider(lbProvider, 'traffic.lbProvider', providers, problems);
  if (lb === undefined) return undefined;
  const pools = await lookups.lbPools(lb);
  if (pools === undefined) {
    problems.error('traffic.lbProvider', `provider '${lb}' has no load balancer configured`);
    return undefined;
  }
  if (typeof poolId === 'string' && poolId.length > 0 && !pools.some((p) => p.id === poolId)) {
    const known = pools.map((p) => p.id).join(', ') || 'none';
    problems.error('traffic.poolId', `the load balancer of '${lb}' has no pool '${poolId}' (its pools: ${known})`);
    ok = false;
  }
  return ok ? { lbProvider: lb, poolId: poolId as string, port: port as number } : undefined;
}

function checkSelection(v: unknown, problems: Problems): ProtectionGroupSpec['instances'] | undefined {
  if (!isObject(v)) {
    problems.error('instances', 'must be an object { ids } or { selector }');
    return undefined;
  }
  unknownKeys(v, INSTANCE_FIELDS, 'instances.', problems);
  const { ids, selector } = v;
  if (ids !== undefined && selector !== undefined) {
    problems.error('instances', 'give ids or selector, not both');
    return undefined;
  }
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_MEMBERS) {
      problems.error('instances.ids', `must list 1 to ${MAX_MEMBERS} instance ids`);
      return undefined;
    }
    const seen = new Set<string>();
    let ok = true;
    for (const [i, id] of ids.entries()) {
      if (typeof id !== 'string') {
        problems.error(`instances.ids[${i}]`, 'must be an instance id');
        ok = false;
      } else if (seen.has(id)) {
        problems.error(`instances.ids[${i}]`, `'${id}' is listed twice`);
        ok = false;
      }
      seen.add(String(id));
    }
    return ok ? { ids: [...seen] } : undefined;
  }
  if (selector !== undefined) {
    const entries = isObject(selector) ? Object.entries(selector) : [];
    if (entries.length === 0 || entries.some(([k, val]) => k.length === 0 || typeof val !== 'string')) {
      problems.error('instances.selector', 'must be a non-empty map of tag key to value, e.g. { "app": "shop" }');
      return undefined;
    }
    return { selector: Object.fromEntries(entries) as Record<string, string> };
  }
  problems.error('instances', 'give ids (a list of instance ids) or selector (tags the instances carry)');
  return undefined;
}

const GONE_STATES: ReadonlySet<string> = new Set(['terminating', 'terminated', 'error']);

async function selectInstances(
  selection: ProtectionGroupSpec['instances'],
  primary: string,
  lookups: GroupLookups,
  problems: Problems,
): Promise<Instance[]> {
  if (selection.selector !== undefined) {
    const found = (await lookups.instancesBySelector(primary, selection.selector)).filter((i) => !GONE_STATES.has(i.state));
    const tags = Object.entries(selection.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    if (found.length === 0) problems.error('instances.selector', `no instance at '${primary}' carries ${tags}`);
    else if (found.length > MAX_MEMBERS) {
      problems.error('instances.selector', `selects ${found.length} instances; a group protects at most ${MAX_MEMBERS}`);
    }
    return found;
  }
  const found: Instance[] = [];
  for (const [i, id] of (selection.ids ?? []).entries()) {
    const field = `instances.ids[${i}]`;
    const ref = checkField(problems, () => parseId(id, field));
    if (ref === undefined) continue;
    if (ref.provider !== primary) {
      problems.error(field, `instance '${id}' is at provider '${ref.provider}', not at the primary '${primary}'`);
      continue;
    }
    const instance = await lookups.instance(id);
    if (instance === undefined) problems.error(field, `instance '${id}' does not exist`);
    else if (GONE_STATES.has(instance.state)) problems.error(field, `instance '${id}' is ${instance.state}`);
    else found.push(instance);
  }
  return found;
}

/** Traffic goes to each instance's private address: one without it (not running yet) cannot be a target. */
function checkAddresses(instances: Instance[], problems: Problems): void {
  for (const i of instances) {
    if (i.privateIp === undefined || i.privateIp === '') {
      problems.error('instances', `instance '${i.id}' has no private address (it is ${i.state}): protect it once it runs`);
    }
  }
}

function checkOrders(instances: Instance[], orderTag: string, problems: Problems): void {
  for (const i of instances) {
    const value = i.tags[orderTag];
    if (value !== undefined && !Number.isFinite(Number(value))) {
      problems.error('orderTag', `instance '${i.id}' has ${orderTag}=${value}, not a number`);
    }
  }
}

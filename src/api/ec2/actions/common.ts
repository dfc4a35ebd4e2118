/** Pieces every EC2 action group shares: id resolution in the request's region, tags, and waiting for a create's id. */
import { SkygateError, type Operation, type ResourceOf, type TaggableKind, type Tags } from '../../../core/index.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error, ec2Errors, toEc2Error } from '../ec2-errors.js';
import { type Ec2IdKind, isEc2Id } from '../id-map.js';
import { defaultView, type RegionNetworks, regionNetworks } from '../network-view.js';
import type { Ec2Params } from '../query-parser.js';
import type { XmlValue } from '../xml-render.js';

/** The account every resource belongs to: one gateway, one account. */
export const ACCOUNT_ID = '000000000000';

/** How long RunInstances, CreateImage and the like wait for the provider to name what it is creating. */
const TARGET_WAIT_MS = 30_000;

/**
 * Skygate ids behind EC2 ids of `kind`, in order. A malformed id is refused as such; unknown ids, and
 * ids of another region (provider), are reported together as not found.
 */
export async function resolveIds(ctx: Ec2Context, kind: Ec2IdKind, ec2Ids: string[]): Promise<string[]> {
  for (const id of ec2Ids) if (!isEc2Id(kind, id)) throw ec2Errors.malformed(kind, id);
  const found = NETWORK_KINDS.has(kind) ? await networkIds(ctx, kind, ec2Ids) : await ctx.ids.resolve(kind, ec2Ids);
  const missing = ec2Ids.filter((id) => !found.get(id)?.startsWith(`${ctx.region}:`));
  if (missing.length > 0) throw ec2Errors.notFound(kind, missing);
  return ec2Ids.map((id) => found.get(id) as string);
}

const NETWORK_KINDS: ReadonlySet<Ec2IdKind> = new Set(['vpc', 'subnet', 'security-group']);

/**
 * The region's network ids follow from its networks, so they resolve without the store: the default network's
 * first, and only when an id is not among them the created networks' (a provider call on some clouds).
 */
async function networkIds(ctx: Ec2Context, kind: Ec2IdKind, ec2Ids: string[]): Promise<Map<string, string>> {
  const net = await ctx.core.network.defaults(ctx.region);
  if (kind === 'security-group') return new Map([[ctx.ids.toEc2(kind, net.securityGroup.id), net.securityGroup.id]]);
  const idsOf = (view: RegionNetworks) => (kind === 'vpc' ? view.vpcs : view.subnets).map((n) => n.id);
  const known = new Map(idsOf(defaultView(net)).map((id) => [ctx.ids.peek(kind, id), id]));
  const all = ec2Ids.every((id) => known.has(id))
    ? known
    : new Map(idsOf(await regionNetworks(ctx)).map((id) => [ctx.ids.peek(kind, id), id]));
  // Only the ids asked for are recorded: the region's other networks were not shown.
  const found = new Map<string, string>();
  for (const id of ec2Ids) {
    const target = all.get(id);
    if (target !== undefined) found.set(ctx.ids.toEc2(kind, target), target);
  }
  return found;
}

export async function resolveId(ctx: Ec2Context, kind: Ec2IdKind, ec2Id: string): Promise<string> {
  return (await resolveIds(ctx, kind, [ec2Id]))[0] as string;
}

/** Reads one resource live from its provider; its absence is EC2's NotFound naming the EC2 id. */
export async function fetchResource<K extends TaggableKind>(ctx: Ec2Context, kind: K, ec2Id: string): Promise<ResourceOf<K>> {
  const id = await resolveId(ctx, kind, ec2Id);
  try {
    return await ctx.core.inventory.get(kind, id);
  } catch (e) {
    if (e instanceof SkygateError && e.code === 'not_found') throw ec2Errors.notFound(kind, [ec2Id]);
    throw e;
  }
}

/** EC2's `tagSet`, sorted by key so answers are stable. */
export function tagSet(tags: Tags): XmlValue[] {
  return Object.keys(tags)
    .sort()
    .map((key) => ({ key, value: tags[key] }));
}

/** `Tag.N.Key` / `Tag.N.Value` pairs; keys are required, values default to ''. */
export function readTags(params: Ec2Params, name = 'Tag'): Array<{ key: string; value?: string }> {
  return params.structs(name).map((t) => {
    t.allowOnly(new Set(['Key', 'Value']));
    return { key: t.requireString('Key'), value: t.string('Value') };
  });
}

/**
 * `TagSpecification.N`: the tags asked for each resource type, refusing types the action does not
 * create. Types in `ignored` are accepted and have no effect (what tools send for resources skygate
 * has no separate notion of, such as a launch's network interface).
 */
export function readTagSpecs(params: Ec2Params, accepted: readonly string[], ignored: readonly string[] = []): Map<string, Tags> {
  const out = new Map<string, Tags>();
  for (const spec of params.structs('TagSpecification')) {
    spec.allowOnly(new Set(['ResourceType', 'Tag']));
    const type = spec.requireString('ResourceType');
    if (!accepted.includes(type) && !ignored.includes(type)) {
      throw ec2Errors.invalidValue(
        spec.nameOf('ResourceType'),
        type,
        `'${type}' is not a valid taggable resource type for this operation (${accepted.join(', ')}).`,
      );
    }
    const tags = out.get(type) ?? {};
    for (const { key, value } of readTags(spec)) tags[key] = value ?? '';
    out.set(type, tags);
  }
  for (const type of ignored) out.delete(type);
  return out;
}

/**
 * Waits until a create operation names its resource and answers that skygate id; a failed operation
 * is answered with its error, and a provider that takes too long with a retryable Unavailable.
 */
export async function targetOf(ctx: Ec2Context, op: Operation): Promise<string> {
  const current =
    op.target !== undefined ? op : await ctx.core.operations.waitFor(op.id, (o) => o.target !== undefined, TARGET_WAIT_MS);
  if (current?.target !== undefined) return current.target;
  if (current?.status === 'failed' && current.error) throw toEc2Error(SkygateError.from(current.error));
  throw new Ec2Error(
    'Unavailable',
    `The provider has not finished creating the resource yet (operation ${op.id}); repeat the request with the same ClientToken`,
    503,
  );
}

/** How long an action that EC2 completes before answering (DeregisterImage, DeleteSnapshot) waits for its operation. */
const COMPLETE_WAIT_MS = 30_000;

/**
 * For actions EC2 completes before it answers: waits for the operation, so the next Describe already
 * shows the change (read your own writes), and answers its failure as EC2 would. One that outlasts the
 * wait goes on; the answer is then sent while it runs.
 */
export async function completed(ctx: Ec2Context, op: Operation): Promise<void> {
  const done = await ctx.core.operations.finished(op.id, COMPLETE_WAIT_MS);
  if (done?.status === 'failed' && done.error) throw toEc2Error(SkygateError.from(done.error));
}

/** The native part of a skygate id: flavors are named by it in EC2 (InstanceType). */
export const nativeOf = (id: string) => id.slice(id.indexOf(':') + 1);

/** A large page size for lists the front reads whole (tags, key pairs). */
export const ALL = 100_000;

/**
 * Describe paging, once for every action: EC2's MaxResults range per action (one table), NextToken, and
 * the selection of inventory resources by id or by page. A NextToken carries the core's cursor (or an
 * offset, for short lists kept outside the inventory) and a key of the query it belongs to, so a token
 * replayed on another query is refused instead of silently skipping resources.
 */
import { SkygateError, type ResourceKind, type ResourceOf, type TaggableKind } from '../../core/index.js';
import { ACCOUNT_ID, resolveIds } from './actions/common.js';
import type { Ec2Context } from './context.js';
import { Ec2Error, ec2Errors } from './ec2-errors.js';

export interface PagingRule {
  min: number;
  max: number;
  /** The page size when the caller sends no MaxResults. */
  default: number;
  /** A MaxResults above `max` answers `max` items (EC2's documented rule for some actions) instead of an error. */
  clampAboveMax?: boolean;
}

/**
 * What "all results" means for a request without MaxResults: EC2 answers everything in one response;
 * skygate bounds that answer, and a longer listing continues with a NextToken (which the AWS CLI and
 * every SDK paginator follow).
 */
export const UNPAGED_LIMIT = 10_000;

/**
 * EC2's MaxResults per Describe action. Sources: the EC2 API reference's parameter text as shipped in
 * botocore's service model (ec2 2016-11-15), where `min`/`max` are either stated in the text ("This value
 * can be between 5 and 1000") or set on the shape (DescribeVpcsMaxResults, DITMaxResults, ...):
 * - DescribeVolumes: "between 5 and 500; if MaxResults is given a value larger than 500, only 500 results
 *   are returned. If this parameter is not used, then DescribeVolumes returns all results." The AWS CLI
 *   sends MaxResults=1000 by default (awscli/customizations/ec2/paginate.py), hence the clamp.
 * - DescribeSnapshots: the same, between 5 and 1,000, larger values answer 1,000, unpaged answers all.
 * - DescribeSecurityGroups: between 5 and 1000 (shape min/max); "If this parameter is not specified, then
 *   all results are returned."
 * - DescribeInstances, DescribeInstanceStatus, DescribeTags: "This value can be between 5 and 1000".
 * - DescribeVpcs, DescribeSubnets: shape min 5, max 1000.
 * - DescribeInstanceTypes: shape DITMaxResults, min 5, max 100; unpaged, pages of 100 (the model says
 *   nothing of the unpaged case, and a list of every type would exceed the largest page).
 * - DescribeImages: paging added in December 2022; the reference gives no range, so EC2's common describe
 *   range (5 to 1000) applies. Without MaxResults every image is listed, as before paging existed.
 * Below the minimum EC2 answers InvalidParameterValue ("Value ( 1 ) for parameter maxResults is invalid").
 */
export const MAX_RESULTS = {
  DescribeImages: { min: 5, max: 1000, default: UNPAGED_LIMIT },
  DescribeInstances: { min: 5, max: 1000, default: UNPAGED_LIMIT },
  DescribeInstanceStatus: { min: 5, max: 1000, default: UNPAGED_LIMIT },
  DescribeInstanceTypes: { min: 5, max: 100, default: 100 },
  DescribeSecurityGroups: { min: 5, max: 1000, default: UNPAGED_LIMIT },
  DescribeSnapshots: { min: 5, max: 1000, default: UNPAGED_LIMIT, clampAboveMax: true },
  DescribeSubnets: { min: 5, max: 1000, default: UNPAGED_LIMIT },
  DescribeTags: { min: 5, max: 1000, default: UNPAGED_LIMIT },
  DescribeVolumes: { min: 5, max: 500, default: UNPAGED_LIMIT, clampAboveMax: true },
  DescribeVpcs: { min: 5, max: 1000, default: UNPAGED_LIMIT },
} as const satisfies Record<string, PagingRule>;

/** What paging reads of a request. */
export type PagingContext = Pick<Ec2Context, 'params' | 'action' | 'queryKey'>;

export interface Paging {
  limit: number;
  /** The core's cursor to continue from. */
  cursor?: string;
  /** For lists paged by position. */
  offset: number;
  /** Whether the caller asked for pages (MaxResults or NextToken): EC2 then forbids listing by id. */
  paged: boolean;
}

interface Token {
  q: string;
  c?: string;
  o?: number;
}

const invalidToken = (why: string) => new Ec2Error('InvalidPaginationToken', `The NextToken is not valid: ${why}`);

function ruleOf(action: string): PagingRule {
  const rule = (MAX_RESULTS as Record<string, PagingRule>)[action];
  if (!rule) throw new Error(`${action} has no row in MAX_RESULTS`);
  return rule;
}

/** MaxResults and NextToken of the request, checked against the action's row of MAX_RESULTS (or `rule`). */
export function readPaging(ctx: PagingContext, rule: PagingRule = ruleOf(ctx.action)): Paging {
  const asked = ctx.params.int('MaxResults', {
    min: rule.min,
    max: rule.clampAboveMax ? Number.MAX_SAFE_INTEGER : rule.max,
  });
  const maxResults = asked === undefined ? undefined : Math.min(asked, rule.max);
  const raw = ctx.params.string('NextToken');
  let token: Token | undefined;
  if (raw !== undefined && raw !== '') {
    try {
      token = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Token;
    } catch {
      throw invalidToken('it was not issued by this endpoint');
    }
    if (typeof token?.q !== 'string') throw invalidToken('it was not issued by this endpoint');
    if (token.q !== ctx.queryKey()) throw invalidToken('it belongs to another query (other action, region or filters)');
  }
  return {
    limit: maxResults ?? rule.default,
    ...(typeof token?.c === 'string' && { cursor: token.c }),
    offset: typeof token?.o === 'number' && Number.isInteger(token.o) && token.o >= 0 ? token.o : 0,
    paged: maxResults !== undefined || token !== undefined,
  };
}

export function nextToken(ctx: PagingContext, next: { cursor?: string; offset?: number }): string | undefined {
  if (next.cursor === undefined && next.offset === undefined) return undefined;
  const token: Token = {
    q: ctx.queryKey(),
    ...(next.cursor !== undefined && { c: next.cursor }),
    ...(next.offset !== undefined && { o: next.offset }),
  };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** One page of an in-memory list, by position. */
export function pageOf<T>(ctx: PagingContext, items: T[], paging: Paging): { items: T[]; nextToken?: string } {
  const end = paging.offset + paging.limit;
  const token = end < items.length ? nextToken(ctx, { offset: end }) : undefined;
  return { items: items.slice(paging.offset, end), ...(token !== undefined && { nextToken: token }) };
}

export interface DescribeQuery<K extends TaggableKind> {
  kind: K;
  /** The id list parameter (`VolumeId`), and EC2's name for it when refusing it with MaxResults (`volumeSet`). */
  ids: { param: string; name: string };
  /** The request's filters, and any selection the action adds; applied by id and by page alike. */
  predicate?: (resource: ResourceOf<K>) => boolean;
  /**
   * The owner list parameter (`Owner`) of actions that scope by owner: skygate is one account, so owners
   * that do not name it (amazon, aws-marketplace, other accounts) own nothing here.
   */
  owners?: string;
  /**
   * What an asked-for id answers once its resource is gone: left out of the answer (EC2's way with a
   * deregistered AMI), or refused as not found (instances, volumes, snapshots).
   */
  gone: 'omit' | 'not-found';
  /** Answer the inventory's own objects, for read-only hot paths (see the core's ListQuery.shared). */
  shared?: boolean;
  /** The action's paging rule when it is not the request's own row of MAX_RESULTS. */
  rule?: PagingRule;
}

export interface DescribePage<K extends TaggableKind> {
  items: ResourceOf<K>[];
  /** Per item, a string that changes when the item does (listing pages only): a key for cached XML. */
  versions?: string[];
  nextToken?: string;
}

/**
 * The resources a Describe action answers: those named by `ids.param` (every id must be one skygate
 * issued in this region; EC2 forbids paging them), or one page of the region's resources. Ids missing
 * from the inventory cache are read live before being declared gone.
 */
export async function describe<K extends TaggableKind>(ctx: Ec2Context, q: DescribeQuery<K>): Promise<DescribePage<K>> {
  const ec2Ids = ctx.params.list(q.ids.param);
  const paging = readPaging(ctx, q.rule);
  if (ec2Ids.length > 0 && paging.paged) {
    throw ec2Errors.combination(`The parameter ${q.ids.name} cannot be used with the parameter maxResults`);
  }
  const owners = q.owners === undefined ? [] : ctx.params.list(q.owners);
  const own = owners.length === 0 || owners.some((o) => o === 'self' || o === ACCOUNT_ID);
  const predicate = own ? q.predicate : () => false;
  const where = predicate && ((r: ResourceOf<ResourceKind>) => predicate(r as ResourceOf<K>));
  if (ec2Ids.length === 0) {
    const page = await ctx.core.inventory.list(q.kind, {
      providers: [ctx.region],
      ...(where && { where }),
      limit: paging.limit,
      cursor: paging.cursor,
      shared: q.shared === true,
    });
    const token = page.nextCursor === undefined ? undefined : nextToken(ctx, { cursor: page.nextCursor });
    return { items: page.items, versions: page.versions, ...(token !== undefined && { nextToken: token }) };
  }
  const wanted = await resolveIds(ctx, q.kind, ec2Ids);
  const set = new Set(wanted);
  const cached = await ctx.core.inventory.list(q.kind, { providers: [ctx.region], where: (r) => set.has(r.id), limit: set.size });
  const byId = new Map(cached.items.map((r) => [r.id, r]));
  const missing: string[] = [];
  for (const [i, id] of wanted.entries()) {
    if (byId.has(id)) continue;
    try {
      byId.set(id, await ctx.core.inventory.get(q.kind, id));
    } catch (e) {
      if (!(e instanceof SkygateError && e.code === 'not_found')) throw e;
      if (!missing.includes(ec2Ids[i] as string)) missing.push(ec2Ids[i] as string);
    }
  }
  if (missing.length > 0 && q.gone === 'not-found') throw ec2Errors.notFound(q.kind, missing);
  const items = [...set].flatMap((id) => {
    const r = byId.get(id);
    return r && (!predicate || predicate(r)) ? [r] : [];
  });
  return { items };
}

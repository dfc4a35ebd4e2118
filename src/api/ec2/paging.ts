/**
 * MaxResults and NextToken. A NextToken carries the core's cursor (or an offset, for short lists
 * kept outside the inventory) and a key of the query it belongs to, so a token replayed on another
 * query is refused instead of silently skipping resources.
 */
import { Ec2Error } from './ec2-errors.js';
import type { Ec2Context } from './context.js';

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

export function readPaging(ctx: Ec2Context, range: { min: number; max: number; default: number }): Paging {
  const maxResults = ctx.params.int('MaxResults', range);
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
    limit: maxResults ?? range.default,
    ...(typeof token?.c === 'string' && { cursor: token.c }),
    offset: typeof token?.o === 'number' && Number.isInteger(token.o) && token.o >= 0 ? token.o : 0,
    paged: maxResults !== undefined || token !== undefined,
  };
}

export function nextToken(ctx: Ec2Context, next: { cursor?: string; offset?: number }): string | undefined {
  if (next.cursor === undefined && next.offset === undefined) return undefined;
  const token: Token = {
    q: ctx.queryKey(),
    ...(next.cursor !== undefined && { c: next.cursor }),
    ...(next.offset !== undefined && { o: next.offset }),
  };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** One page of an in-memory list, by position. */
export function pageOf<T>(ctx: Ec2Context, items: T[], paging: Paging): { items: T[]; nextToken?: string } {
  const end = paging.offset + paging.limit;
  const token = end < items.length ? nextToken(ctx, { offset: end }) : undefined;
  return { items: items.slice(paging.offset, end), ...(token !== undefined && { nextToken: token }) };
}

/**
 * Page cursors bound to the listing that issued them: a cursor names its collection and carries a digest of
 * that collection, the listing's filters and the position, so a cursor replayed on another collection or
 * with other filters, altered, or made up is refused with a reason instead of silently skipping or repeating
 * items. The digest is a plain hash, not a signature: a cursor only says where a caller's own listing
 * stopped, and a forged one can reach nothing that listing could not.
 */
import { createHash } from 'node:crypto';
import { invalid } from './errors.js';

interface Payload {
  /** The collection (`instances`, `operations`...). */
  c: string;
  /** The last item of the page: the next page starts after it. */
  a: string;
  /** Digest of collection, filters and position. */
  h: string;
}

/** Filters in a canonical form: keys sorted, undefined left out, lists sorted (their order means nothing). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
  );
}

const digest = (collection: string, filters: unknown, after: string) =>
  createHash('sha256')
    .update(JSON.stringify([collection, canonical(filters), after]))
    .digest('base64url')
    .slice(0, 22);

/** The cursor continuing `collection`, listed with `filters`, after item `after`. */
export function encodeCursor(collection: string, filters: unknown, after: string): string {
  const payload: Payload = { c: collection, a: after, h: digest(collection, filters, after) };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/**
 * The position a cursor continues after, checked against the listing it is used on. Throws `invalid_input`
 * naming `field` with a readable reason; the cursor's bytes are never echoed.
 */
export function decodeCursor(cursor: string, collection: string, filters: unknown, field = 'query.cursor'): string {
  const refuse = (why: string) => invalid(field, `${why}; pass nextCursor back unchanged, or start again without a cursor`);
  // Base64url decoding skips what it cannot read; only a cursor that re-encodes to itself is one this API made.
  const bytes = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url') : undefined;
  if (!bytes || bytes.toString('base64url') !== cursor) throw refuse('is not a cursor this API issued');
  let payload: Partial<Payload>;
  try {
    payload = JSON.parse(bytes.toString('utf8')) as Partial<Payload>;
  } catch {
    throw refuse('is not a cursor this API issued');
  }
  if (typeof payload?.c !== 'string' || typeof payload.a !== 'string' || typeof payload.h !== 'string') {
    throw refuse('is not a cursor this API issued');
  }
  if (payload.c !== collection) {
    const issuer = /^[a-z-]{1,32}$/.test(payload.c) ? `'${payload.c}'` : 'another collection';
    throw refuse(`was issued for ${issuer}, not for '${collection}'`);
  }
  if (payload.h !== digest(collection, filters, payload.a)) {
    throw refuse('was issued for this collection with other filters (or was altered)');
  }
  return payload.a;
}

/** GFD.223 pagination of collections: `page` (from 1) and `number` (entities per page). */
import type { Request } from 'express';
import { badRequest, OcciError } from './errors.js';
import { queryOf } from './http.js';

/** The REST API's default and ceiling, so both fronts page alike. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export function pageOf(req: Request): { limit: number; skip: number } {
  const int = (name: string, fallback: number) => {
    const raw = queryOf(req)[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1)
      throw badRequest(`query ${name}: must be a whole number from 1`);
    return Number(raw);
  };
  const limit = int('number', DEFAULT_PAGE_SIZE);
  if (limit > MAX_PAGE_SIZE) throw new OcciError(413, `query number: at most ${MAX_PAGE_SIZE} entities per page`);
  const page = int('page', 1);
  return { limit, skip: (page - 1) * limit };
}

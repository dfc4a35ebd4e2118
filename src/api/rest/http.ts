/** Small request/response helpers shared by the REST routes. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Operation, type Principal, type Role, operationFor } from '../../core/index.js';
import { reply, type Schema } from './schemas.js';
import type { CallerContext } from '../../core/services/resource-service.js';

/** What the validation middleware leaves for the handler: spec-coerced query and path parameters. */
export interface Validated {
  query: Record<string, unknown>;
  params: Record<string, string>;
}

export const validated = (res: Response): Validated => res.locals.validated as Validated;
export const principal = (res: Response): Principal => res.locals.principal as Principal;

export function caller(req: Request, res: Response): CallerContext {
  const key = req.get('idempotency-key');
  return { principal: principal(res).tokenId, ...(key !== undefined && { idempotencyKey: key }) };
}

/**
 * The public form of an operation: the engine's scratch state stays inside, and a caller below operator gets
 * its input with user data and other secrets redacted (the core's rule).
 */
export function renderOperation(op: Operation, role: Role): Schema<'Operation'> {
  const { state: _state, ...rest } = operationFor(op, role);
  return rest;
}

export function sendAccepted(res: Response, op: Operation): void {
  res.location(`/v1/operations/${op.id}`);
  reply(res, 202, 'Operation', renderOperation(op, principal(res).role));
}

/** An async handler whose rejections reach the problem+json handler. (Roles are checked before, from the spec.) */
export function route(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
}

/** `tag=env=prod&tag=team` -> [{key:'env', value:'prod'}, {key:'team'}] */
export function parseTags(raw: unknown): Array<{ key: string; value?: string }> | undefined {
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((t) => {
    const s = String(t);
    const eq = s.indexOf('=');
    return eq < 0 ? { key: s } : { key: s.slice(0, eq), value: s.slice(eq + 1) };
  });
}

export const splitList = (raw: unknown): string[] | undefined =>
  raw === undefined
    ? undefined
    : (Array.isArray(raw) ? raw : [raw])
        .flatMap((v) => String(v).split(','))
        .map((s) => s.trim())
        .filter(Boolean);

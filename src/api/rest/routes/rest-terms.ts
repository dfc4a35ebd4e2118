/** Translates the core's words into the REST front's: errors name the request field at fault, providers come from the path. */
import type { Request } from 'express';
import { SkygateError } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';

/**
 * Runs a core call whose errors name inputs in the core's words (`keyName`, `tags`), and renames those
 * fields to where they sat in the REST request (`body.name`, `body.tags`) by `fields`.
 */
export async function inRestTerms<T>(fields: Record<string, string>, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof SkygateError) || e.field === undefined || !(e.field in fields)) throw e;
    const to = (field: string) => fields[field] ?? field;
    const from = e.field;
    // invalid() writes "field: reason"; keep the message naming the same field as `field`.
    const message = e.message.startsWith(`${from}:`) ? `${to(from)}${e.message.slice(from.length)}` : e.message;
    throw new SkygateError(e.code, message, {
      field: to(from),
      errors: e.errors?.map((x) => ({ ...x, field: to(x.field) })),
      provider: e.provider,
      requestId: e.requestId,
      retryAfter: e.retryAfter,
      cause: e,
    });
  }
}

/** The `providerId` of the path, which must be configured (404 naming `path.providerId` otherwise). */
export function providerInPath(core: CoreServices, req: Request): string {
  const id = String(req.params.providerId);
  if (!core.providers.has(id)) {
    throw new SkygateError('not_found', `path.providerId: provider '${id}' is not configured`, { field: 'path.providerId' });
  }
  return id;
}

/** Translates the core's words into the REST front's: errors name the request field at fault, providers come from the path. */
import type { Request } from 'express';
import { SkygateError } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';

/**
 * Runs a core call whose errors name inputs in the core's words (`keyName`, `tags`), and renames those
 * fields to where they sat in the REST request (`body.name`, `body.tags`) by `fields`.
 */
export async function inRestTerms<T>(fields: Record<string, string>, call: () => Promise<T>): Promise<T> {
  return renamingFields((field) => fields[field], call);
}

/** Where a request part is named already (`path.id`), a field stays as it is. */
const PART = /^(body|path|query|header)(\.|\[|$)/;

/**
 * Runs a core call that checks a whole document the request body carries (a protection group's spec), whose errors
 * name its fields from the document's root (`replication.rpoSeconds`): they are named in the body (`body.replication.rpoSeconds`).
 */
export function inBodyTerms<T>(call: () => Promise<T>): Promise<T> {
  return renamingFields((field) => (PART.test(field) ? undefined : `body.${field}`), call);
}

/** Runs `call`, renaming the fields its error names by `rename` (undefined: kept as it is). */
async function renamingFields<T>(rename: (field: string) => string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof SkygateError) || e.field === undefined || rename(e.field) === undefined) throw e;
    const to = (field: string) => rename(field) ?? field;
    const from = e.field;
    // invalid() writes "field: reason" (several: "a: why; b: why"); keep the message naming the same fields.
    const message =
      (e.errors?.length ?? 0) > 1
        ? renameAll(e, to)
        : e.message.startsWith(`${from}:`)
          ? `${to(from)}${e.message.slice(from.length)}`
          : e.message;
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

function renameAll(e: SkygateError, to: (field: string) => string): string {
  let message = e.message;
  for (const x of e.errors ?? []) message = message.replace(`${x.field}: ${x.reason}`, `${to(x.field)}: ${x.reason}`);
  return message;
}

/** The `providerId` of the path, which must be configured (404 naming `path.providerId` otherwise). */
export function providerInPath(core: CoreServices, req: Request): string {
  const id = String(req.params.providerId);
  if (!core.providers.has(id)) {
    throw new SkygateError('not_found', `path.providerId: provider '${id}' is not configured`, { field: 'path.providerId' });
  }
  return id;
}

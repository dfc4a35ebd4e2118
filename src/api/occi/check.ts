/** Checks a request's categories and attributes against the categories they name: unknown, wrong type, immutable, missing. */
import { type AttributeDef, type Category, idOf } from './categories.js';
import type { AttributeValue } from './entities.js';
import { badRequest } from './errors.js';
import type { OcciRequest, ParsedCategory } from './parse.js';

export const categoryId = (c: Pick<ParsedCategory, 'scheme' | 'term'>) => `${c.scheme}${c.term}`;

/** The one kind a create or update names; `expected` is the collection's kind. */
export function kindOf(req: OcciRequest, expected: Category, required: boolean): void {
  const kinds = req.categories.filter((c) => c.class === 'kind');
  if (kinds.length > 1) throw badRequest(`a request names one kind, not ${kinds.length}`);
  const kind = kinds[0];
  if (!kind) {
    if (required) throw badRequest(`the kind is missing: Category ${expected.term};scheme="${expected.scheme}";class="kind"`);
    return;
  }
  if (categoryId(kind) !== idOf(expected))
    throw badRequest(`kind '${categoryId(kind)}' is not ${idOf(expected)} (the kind of this location)`);
}

/**
 * Every attribute must be defined by the kind or a mixin of the request, of the defined type, and mutable
 * unless `creating` allows setting it once; required ones must be there when creating. An update may repeat
 * an immutable attribute with the entity's `current` value (clients PUT back what they read).
 */
export function checkAttributes(
  attributes: Record<string, AttributeValue>,
  defs: Record<string, AttributeDef>,
  mode: 'create' | 'update',
  /** Attributes a client may send and the server ignores (its own id, echoed back by clients). */
  ignored: string[] = ['occi.core.id'],
  current: Record<string, AttributeValue> = {},
): void {
  for (const [name, v] of Object.entries(attributes)) {
    if (ignored.includes(name)) continue;
    const def = defs[name];
    if (!def) throw badRequest(`attribute ${name}: not defined by the kind or mixins of this request`);
    if (typeof v !== def.type) throw badRequest(`attribute ${name}: must be a ${def.type}, not a ${typeof v}`);
    if (def.mutable || (mode === 'create' && settableAtCreate.has(name)) || current[name] === v) continue;
    const now = current[name] === undefined ? '' : ` (it is ${JSON.stringify(current[name])})`;
    throw badRequest(`attribute ${name}: is immutable${now}`);
  }
  if (mode === 'create') {
    for (const [name, def] of Object.entries(defs)) {
      if (def.required && !ignored.includes(name) && attributes[name] === undefined) {
        throw badRequest(`attribute ${name}: is required`);
      }
    }
  }
}

/** Immutable once the entity exists, but a create may set them (what the entity is made from). */
const settableAtCreate = new Set([
  'occi.storage.size',
  'occi.compute.userdata',
  'occi.credentials.ssh.publickey',
  'occi.core.source',
  'occi.core.target',
  'occi.storagelink.deviceid',
  'occi.network.address',
  'occi.network.gateway',
  'occi.network.allocation',
  'skygate.zone',
]);

export const defsOf = (...cats: Array<Category | undefined>) =>
  Object.assign({}, ...cats.map((c) => c?.attributes ?? {})) as Record<string, AttributeDef>;

export const str = (v: AttributeValue | undefined) => (typeof v === 'string' ? v : undefined);

/**
 * GFD.224's allocation (`name`: occi.network.allocation or occi.networkinterface.allocation): the providers behind
 * skygate assign each interface's address from the block, so only `dynamic` is taken. `where` prefixes the message.
 */
export function checkDynamic(attributes: Record<string, AttributeValue>, name: string, where = ''): void {
  const v = attributes[name];
  if (v !== undefined && v !== 'dynamic')
    throw badRequest(`${where}attribute ${name}: only dynamic (the provider assigns each address), not ${JSON.stringify(v)}`);
}

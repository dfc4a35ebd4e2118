/**
 * GFD.223 collection filtering. A GET names categories (as `Category` headers, or `?category=scheme#term`)
 * and attributes (as `X-OCCI-Attribute` headers, or `?attribute=name=value`); an entity is listed when it
 * carries every category and has every attribute at that value. A provider mixin selects its provider, an
 * os_tpl or resource_tpl the computes of that image or flavor, a user mixin its tag. The filters go to
 * `inventory.list` (providers, tags, a predicate), so pages count filtered entities.
 */
import type { Request } from 'express';
import type { CoreServices, Instance, Volume } from '../../core/index.js';
import { type Category, idOf, KINDS, MIXINS, PROVIDER_ATTRS, PROVIDER_SCHEME, TAG_SCHEME } from './categories.js';
import { categoryId, defsOf } from './check.js';
import { type AttributeValue, computeOf, type OcciResource, storageOf } from './entities.js';
import { badRequest } from './errors.js';
import { queryOf } from './http.js';
import { type ParsedCategory, parseTextHeaders } from './parse.js';
import { resolveMixins } from './query-model.js';

type ListQuery = Parameters<CoreServices['inventory']['list']>[1];
export type CollectionFilter = Pick<ListQuery, 'providers' | 'tags' | 'where'>;

interface Wanted {
  categories: ParsedCategory[];
  /** Compared with the entity's attribute as text (`4` matches the number 4). */
  attributes: Array<{ name: string; value: string }>;
}

const queryValues = (req: Request, name: string) => {
  const raw = queryOf(req)[name];
  return (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).map(String);
};

/** What a GET of a `kind` collection filters by, checked: categories are identifiers, attributes the kind's. */
function wantedOf(req: Request, kind: Category): Wanted {
  const headers = parseTextHeaders(req.headers);
  const categories = [
    ...headers.categories,
    ...queryValues(req, 'category').map((s): ParsedCategory => {
      const at = s.indexOf('#') + 1;
      if (at === 0 || at === s.length) throw badRequest(`query category: '${s}' is not a category identifier (scheme#term)`);
      const scheme = s.slice(0, at);
      const term = s.slice(at);
      return { scheme, term, class: scheme === kind.scheme && term === kind.term ? 'kind' : 'mixin' };
    }),
  ];
  const attributes = [
    ...Object.entries(headers.attributes).map(([name, v]) => ({ name, value: String(v) })),
    ...queryValues(req, 'attribute').map((s) => {
      const eq = s.indexOf('=');
      if (eq < 1) throw badRequest(`query attribute: '${s}' is not name=value`);
      return { name: s.slice(0, eq), value: s.slice(eq + 1) };
    }),
  ];
  const defs = { ...defsOf(kind), ...PROVIDER_ATTRS };
  for (const a of attributes) {
    if (!(a.name in defs)) throw badRequest(`attribute ${a.name}: ${idOf(kind)} has no such attribute to filter by`);
  }
  for (const c of categories) {
    if (c.class === 'action') throw badRequest(`category ${categoryId(c)}: a collection is not filtered by action`);
    if (c.class === 'kind' && categoryId(c) !== idOf(kind)) {
      throw badRequest(`kind ${categoryId(c)}: not the kind of this collection (${idOf(kind)})`);
    }
  }
  return { categories, attributes };
}

/** An entity's attributes hold every wanted value. */
function attributeMatch(wanted: Wanted['attributes']): ((attributes: Record<string, AttributeValue>) => boolean) | undefined {
  if (wanted.length === 0) return undefined;
  return (attributes) => wanted.every((w) => attributes[w.name] !== undefined && String(attributes[w.name]) === w.value);
}

/** Whether a GET filters at all (most listings do not: they skip the parsing). */
const filters = (req: Request) =>
  req.headers.category !== undefined ||
  req.headers['x-occi-attribute'] !== undefined ||
  queryOf(req).category !== undefined ||
  queryOf(req).attribute !== undefined ||
  typeof req.params.term === 'string';

export async function computeFilter(core: CoreServices, req: Request): Promise<CollectionFilter> {
  if (!filters(req)) return {};
  const wanted = wantedOf(req, KINDS.compute);
  const tags = typeof req.params.term === 'string' ? [{ key: req.params.term }] : [];
  const mixins: ParsedCategory[] = [];
  for (const c of wanted.categories) {
    if (c.class === 'mixin' && c.scheme === TAG_SCHEME) tags.push({ key: c.term });
    else if (c.class === 'mixin') mixins.push(c);
  }
  const t = await resolveMixins(core, mixins);
  if (t.extras.length > 0)
    throw badRequest(`mixin ${idOf(t.extras[0] as { scheme: string; term: string })}: computes are not filtered by it`);
  const image = t.image?.id;
  const flavor = t.flavor?.id;
  const match = attributeMatch(wanted.attributes);
  // Attributes such as occi.compute.cores come from the flavor, so an attribute filter renders each compute.
  const flavors = match
    ? new Map((await core.inventory.list('flavor', { limit: 100_000, shared: true })).items.map((f) => [f.id, f]))
    : undefined;
  return {
    ...(t.provider !== undefined && { providers: [t.provider] }),
    ...(tags.length > 0 && { tags }),
    ...((image !== undefined || flavor !== undefined || match) && {
      where: (r) => {
        const i = r as Instance;
        if (image !== undefined && i.imageId !== image) return false;
        if (flavor !== undefined && i.flavorId !== flavor) return false;
        return !match || match(computeOf(i, flavors?.get(i.flavorId)).attributes);
      },
    }),
  };
}

/** A provider mixin names a set of storages or networks (they carry no templates); `tagged`: user mixins are the caller's. */
function providerOf(core: CoreServices, wanted: Wanted, what: string, tagged = false): string | undefined {
  let provider: string | undefined;
  for (const c of wanted.categories) {
    if (c.class !== 'mixin' || (tagged && c.scheme === TAG_SCHEME)) continue;
    if (c.scheme !== PROVIDER_SCHEME) {
      throw badRequest(`mixin ${categoryId(c)}: ${what} are filtered only by provider${tagged ? ' and user' : ''} mixins`);
    }
    if (!core.providers.has(c.term)) throw badRequest(`mixin ${categoryId(c)}: unknown (see the query interface at /-/)`);
    if (provider !== undefined && provider !== c.term) throw badRequest(`mixins: an entity is at one provider, not two`);
    provider = c.term;
  }
  return provider;
}

/** Storages are filtered by provider mixin, user mixins (their tags, and the tag of `/mixin/tag/{term}/`) and attributes. */
export function storageFilter(core: CoreServices, req: Request): CollectionFilter {
  if (!filters(req)) return {};
  const wanted = wantedOf(req, KINDS.storage);
  const provider = providerOf(core, wanted, 'storages', true);
  const tags = [
    ...(typeof req.params.term === 'string' ? [{ key: req.params.term }] : []),
    ...wanted.categories.filter((c) => c.class === 'mixin' && c.scheme === TAG_SCHEME).map((c) => ({ key: c.term })),
  ];
  const match = attributeMatch(wanted.attributes);
  return {
    ...(provider !== undefined && { providers: [provider] }),
    ...(tags.length > 0 && { tags }),
    ...(match && { where: (v) => match(storageOf(v as Volume).attributes) }),
  };
}

/**
 * The one kind a GET names among `kinds` (a `Category` header of class kind, or `?category=` naming a kind), so a
 * collection of several kinds (a tag mixin's members) lists only that one; undefined when it names none.
 */
export function kindNamed(req: Request, kinds: readonly Category[]): Category | undefined {
  if (!filters(req)) return undefined;
  const ids = [
    ...parseTextHeaders(req.headers)
      .categories.filter((c) => c.class === 'kind')
      .map(categoryId),
    ...queryValues(req, 'category').filter((id) => Object.values(KINDS).some((k) => idOf(k) === id)),
  ];
  const named = [...new Set(ids)];
  if (named.length > 1) throw badRequest(`kinds ${named.join(', ')}: an entity has one kind`);
  if (named[0] === undefined) return undefined;
  const kind = kinds.find((k) => idOf(k) === named[0]);
  if (!kind) throw badRequest(`kind ${named[0]}: this collection holds ${kinds.map(idOf).join(' and ')}`);
  return kind;
}

/**
 * Networks are few, so their filter is a test of each network entity: a provider mixin selects the provider, a user
 * mixin (tag) or the ipnetwork mixin (every network carries it) must be among the entity's mixins.
 */
export function networkFilter(core: CoreServices, req: Request): (network: OcciResource) => boolean {
  const wanted = wantedOf(req, KINDS.network);
  // On /mixin/tag/{term}/ the path's tag is one more mixin to carry.
  const carried: string[] = typeof req.params.term === 'string' ? [`${TAG_SCHEME}${req.params.term}`] : [];
  for (const c of wanted.categories) {
    if (c.class !== 'mixin' || c.scheme === PROVIDER_SCHEME) continue;
    if (c.scheme !== TAG_SCHEME && categoryId(c) !== idOf(MIXINS.ipnetwork))
      throw badRequest(`mixin ${categoryId(c)}: networks are filtered by provider, user (tag) and ipnetwork mixins only`);
    carried.push(categoryId(c));
  }
  const provider = providerOf(
    core,
    { ...wanted, categories: wanted.categories.filter((c) => !carried.includes(categoryId(c))) },
    'networks',
  );
  const match = attributeMatch(wanted.attributes);
  return (network) =>
    (provider === undefined || network.mixins.includes(`${PROVIDER_SCHEME}${provider}`)) &&
    carried.every((m) => network.mixins.includes(m)) &&
    (!match || match(network.attributes));
}

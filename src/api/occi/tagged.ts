/** `/mixin/tag/{term}/`: every entity carrying a user mixin (tag), of every kind that takes tag mixins, paged. */
import type { Request, Response } from 'express';
import type { CoreServices, Flavor, Instance, TaggableKind, Volume } from '../../core/index.js';
import { type Category, KINDS } from './categories.js';
import { computeOf, locationOf, type OcciResource, storageOf } from './entities.js';
import { OcciError } from './errors.js';
import { type CollectionFilter, computeFilter, kindNamed, networkFilter, storageFilter } from './filter.js';
import { baseOf, negotiate, queryOf, send } from './http.js';
import { networkEntities } from './network.js';
import { pageOf } from './paging.js';
import { collectionItemJson, renderCollection } from './render.js';

interface Member {
  location: string;
  json: () => string;
}

/** One kind that carries tag mixins: its first `limit` members passing the request's filters, and whether there are more. */
interface TaggedKind {
  occi: Category;
  /** `json`: whether members are rendered whole (JSON) or only located (text renderings need no flavors). */
  members(core: CoreServices, req: Request, limit: number, json: boolean): Promise<{ members: Member[]; more: boolean }>;
}

/** A kind kept in the inventory, listed with the request's filters (`filter`) and rendered by `renderer`. */
function inventoryKind(
  occi: Category,
  kind: TaggableKind,
  location: 'compute' | 'storage',
  filter: (core: CoreServices, req: Request) => Promise<CollectionFilter> | CollectionFilter,
  renderer: (core: CoreServices) => Promise<(resource: unknown) => OcciResource>,
): TaggedKind {
  return {
    occi,
    async members(core, req, limit, json) {
      const listing = await core.inventory.list(kind, { limit, shared: true, ...(await filter(core, req)) });
      const render = json ? await renderer(core) : () => undefined as never;
      return {
        members: listing.items.map((r) => ({ location: locationOf(location, r.id), json: () => collectionItemJson(render(r)) })),
        more: listing.nextCursor !== undefined,
      };
    },
  };
}

/** The kinds whose entities carry tag mixins, in the order a tag's collection lists them. */
const TAGGED_KINDS: readonly TaggedKind[] = [
  inventoryKind(KINDS.compute, 'instance', 'compute', computeFilter, async (core) => {
    const flavors = new Map<string, Flavor>(
      (await core.inventory.list('flavor', { limit: 100_000, shared: true })).items.map((f) => [f.id, f]),
    );
    return (r) => computeOf(r as Instance, flavors.get((r as Instance).flavorId));
  }),
  inventoryKind(KINDS.storage, 'volume', 'storage', storageFilter, async () => (r) => storageOf(r as Volume)),
  {
    // Networks are few and not in the inventory: the network entities, filtered as /network/ filters them.
    occi: KINDS.network,
    async members(core, req, limit) {
      const wanted = networkFilter(core, req);
      const matching = (await networkEntities(core)).map((l) => l.entity).filter(wanted);
      return {
        members: matching.slice(0, limit).map((e) => ({ location: e.location, json: () => collectionItemJson(e) })),
        more: matching.length > limit,
      };
    },
  },
];

/** What DELETE /-/ of a user mixin removes its tag from: the inventory's kinds (networks through the network service). */
export const TAGGED_INVENTORY_KINDS: readonly TaggableKind[] = ['instance', 'volume'];

export class TaggedHandlers {
  constructor(private readonly core: CoreServices) {}

  /**
   * Lists the computes, then the storages, then the networks carrying the tag; a kind category in the filter lists
   * that kind only, and the other filters are those of each kind listed. Page n reads n×m entities of each kind.
   */
  list = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const { limit, skip } = pageOf(req);
    const named = kindNamed(
      req,
      TAGGED_KINDS.map((k) => k.occi),
    );
    const kinds = TAGGED_KINDS.filter((k) => named === undefined || k.occi === named);
    const listings = await Promise.all(kinds.map((k) => k.members(this.core, req, skip + limit, n.as === 'json')));
    const all = listings.flatMap((l) => l.members);
    const page = all.slice(skip, skip + limit);
    if (page.length === 0 && skip > 0) throw new OcciError(404, `page ${queryOf(req).page}: past the last page of ${req.path}`);
    if (all.length > skip + limit || listings.some((l) => l.more)) {
      res.setHeader('Link', `<${baseOf(req)}${req.path}?page=${skip / limit + 2}&number=${limit}>; rel="next"`);
    }
    send(res, 200, n, renderCollection(page, 'resources', n.as, baseOf(req)));
  };
}

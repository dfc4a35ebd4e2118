/** `/mixin/tag/{term}/`: every entity carrying a user mixin (tag), of every kind that takes tag mixins, paged. */
import type { Request, Response } from 'express';
import type { CoreServices, Flavor, Instance, TaggableKind, Volume } from '../../core/index.js';
import { type Category, KINDS } from './categories.js';
import { computeOf, locationOf, type OcciResource, storageOf } from './entities.js';
import { OcciError } from './errors.js';
import { type CollectionFilter, computeFilter, kindNamed, storageFilter } from './filter.js';
import { baseOf, negotiate, queryOf, send } from './http.js';
import { pageOf } from './paging.js';
import { collectionItemJson, renderCollection } from './render.js';

/** One kind that carries tag mixins: how its entities are found and rendered. */
interface TaggedKind {
  kind: TaggableKind;
  occi: Category;
  location: 'compute' | 'storage';
  filter(core: CoreServices, req: Request): Promise<CollectionFilter> | CollectionFilter;
  /** A renderer for one listing (a compute's cores and memory come from its flavor, read once). */
  renderer(core: CoreServices): Promise<(resource: unknown) => OcciResource>;
}

/**
 * The kinds whose entities carry tag mixins, in the order a tag's collection lists them; DELETE /-/ removes a tag
 * from each. Networks join with an entry here once they carry tags.
 */
export const TAGGED_KINDS: readonly TaggedKind[] = [
  {
    kind: 'instance',
    occi: KINDS.compute,
    location: 'compute',
    filter: computeFilter,
    renderer: async (core) => {
      const flavors = new Map<string, Flavor>(
        (await core.inventory.list('flavor', { limit: 100_000, shared: true })).items.map((f) => [f.id, f]),
      );
      return (r) => computeOf(r as Instance, flavors.get((r as Instance).flavorId));
    },
  },
  {
    kind: 'volume',
    occi: KINDS.storage,
    location: 'storage',
    filter: storageFilter,
    renderer: async () => (r) => storageOf(r as Volume),
  },
];

export class TaggedHandlers {
  constructor(private readonly core: CoreServices) {}

  /**
   * Lists the computes, then the storages, carrying the tag; a kind category in the filter lists that kind only,
   * and the other filters are those of each kind listed. Page n reads n×m entities of each kind.
   */
  list = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const { limit, skip } = pageOf(req);
    const named = kindNamed(
      req,
      TAGGED_KINDS.map((k) => k.occi),
    );
    const kinds = TAGGED_KINDS.filter((k) => named === undefined || k.occi === named);
    const listings = await Promise.all(
      kinds.map(async (k) => {
        const listing = await this.core.inventory.list(k.kind, {
          limit: skip + limit,
          shared: true,
          ...(await k.filter(this.core, req)),
        });
        return { k, listing, render: n.as === 'json' ? await k.renderer(this.core) : undefined };
      }),
    );
    const all = listings.flatMap(({ k, listing, render }) =>
      listing.items.map((r) => ({
        location: locationOf(k.location, r.id),
        json: () => collectionItemJson((render as (r: unknown) => OcciResource)(r)),
      })),
    );
    const page = all.slice(skip, skip + limit);
    if (page.length === 0 && skip > 0) throw new OcciError(404, `page ${queryOf(req).page}: past the last page of ${req.path}`);
    if (all.length > skip + limit || listings.some((l) => l.listing.nextCursor !== undefined)) {
      res.setHeader('Link', `<${baseOf(req)}${req.path}?page=${skip / limit + 2}&number=${limit}>; rel="next"`);
    }
    send(res, 200, n, renderCollection(page, 'resources', n.as, baseOf(req)));
  };
}

/**
 * The inventory's in-memory read model: one per resource kind, ordered by id, each resource kept
 * with its JSON already serialised. Listing a page is a binary search, a short scan and a join, so
 * the single pane of glass stays fast however many resources the clouds hold; the store keeps the
 * durable copy that a restarted gateway loads back. Whole encoded pages are kept too, until the view
 * next changes.
 */
import { yieldToEventLoop } from '../event-loop.js';
import type { Freshness, ResourceKind, ResourceOf } from '../model.js';

/** Resources serialised between two yields to the event loop during a refresh. */
const CHUNK = 500;
/** Bytes of encoded pages kept per view (a 100-instance page is about 40 KB). */
const PAGE_CACHE_BYTES = 8 * 1024 * 1024;

interface Entry<R> {
  resource: R;
  /** The resource as JSON without `observedAt` and `freshness`, which vary without the resource changing. */
  body: string;
  observedAt: string;
  /**
   * The full JSON per freshness for one observation time, built on first read (most entries are read many times
   * between changes).
   */
  json?: { at: string; fresh?: string; stale?: string };
}

export interface ViewFilter {
  providers?: string[];
  state?: string;
  name?: string;
  tags?: Array<{ key: string; value?: string }>;
  /** Any further selection a front needs (EC2's filters), applied within the page so that pages stay full. */
  where?: (resource: ResourceOf<ResourceKind>) => boolean;
}

export interface Diff<R> {
  changed: R[];
  gone: string[];
}

function bodyOf(resource: object): string {
  const { observedAt: _o, freshness: _f, ...rest } = resource as { observedAt?: string; freshness?: string };
  return JSON.stringify(rest);
}

/** Fields that vary without the resource changing, left out of `body`. */
const VOLATILE = new Set(['observedAt', 'freshness']);

const isPlain = (v: object) => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * Whether two values serialise to the same JSON (object key order aside); at the top level, the
 * volatile fields are ignored. Cheaper than serialising: a refresh compares thousands of resources that
 * mostly did not change. Anything unusual (a Date, a class instance) answers false, so is serialised.
 */
function sameData(a: unknown, b: unknown, top = false): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (!isPlain(a) || !isPlain(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  // JSON leaves out undefined values, so only defined ones are counted and compared.
  let defined = 0;
  for (const k in x) {
    if ((top && VOLATILE.has(k)) || x[k] === undefined) continue;
    defined++;
    if (!sameData(x[k], y[k])) return false;
  }
  for (const k in y) if (!(top && VOLATILE.has(k)) && y[k] !== undefined) defined--;
  return defined === 0;
}

/** Index of the first id >= `id` in a sorted array. */
function lowerBound(sorted: string[], id: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Encoded pages by query key, least recently read first. The view empties it in the same synchronous
 * step as any change to its entries, so a page read from it is never older than the view.
 */
export class EncodedPages {
  private readonly pages = new Map<string, Buffer>();
  private bytes = 0;
  /** The most recently read or kept key, which needs no re-insertion when read again. */
  private newest: string | undefined;

  constructor(private readonly maxBytes = PAGE_CACHE_BYTES) {}

  get size(): number {
    return this.pages.size;
  }

  get(key: string): Buffer | undefined {
    const page = this.pages.get(key);
    if (page && key !== this.newest) {
      // Re-inserted so that eviction takes the least recently read page, not the first page clients keep asking for.
      this.pages.delete(key);
      this.pages.set(key, page);
      this.newest = key;
    }
    return page;
  }

  set(key: string, page: Buffer): void {
    if (page.length > this.maxBytes) return;
    const old = this.pages.get(key);
    if (old) {
      this.pages.delete(key);
      this.bytes -= old.length;
    }
    for (const [k, p] of this.pages) {
      if (this.bytes + page.length <= this.maxBytes) break;
      this.pages.delete(k);
      this.bytes -= p.length;
    }
    this.pages.set(key, page);
    this.bytes += page.length;
    this.newest = key;
  }

  clear(): void {
    this.pages.clear();
    this.bytes = 0;
    this.newest = undefined;
  }
}

export class InventoryView<K extends ResourceKind> {
  private readonly entries = new Map<string, Entry<ResourceOf<K>>>();
  private sorted: string[] = [];
  private readonly pages = new EncodedPages();
  /**
   * When each resource was forgotten (deleted through the gateway), by provider: a refresh whose listing
   * began before that must not bring it back. Cleared by the provider's next refresh, which began later.
   */
  private readonly forgotten = new Map<string, Map<string, string>>();
  /**
   * When the gateway itself last put or forgot each resource, by provider: a refresh by changes (`applyChanges`)
   * reads these again, as a full listing would, so that what the gateway wrote never outlives the provider's word.
   */
  private readonly touched = new Map<string, Map<string, string>>();
  /**
   * When each provider's whole listing was last confirmed by a refresh by changes: the observation time of its
   * entries that did not change (as the store's `refreshed_at`), so confirming them costs nothing per entry.
   */
  private readonly confirmedAt = new Map<string, string>();

  /** Changes whenever anything the view lists does (see `changed`). */
  private gen = 0;

  get size(): number {
    return this.entries.size;
  }

  /**
   * A number that changes whenever a resource the view lists does (a confirmation that changes only observation
   * times leaves it): a key for what fronts render from the resources without their observation time.
   */
  get generation(): number {
    return this.gen;
  }

  /** Every change goes through here, in the same synchronous step as the change itself. */
  private changed(): void {
    this.pages.clear();
    this.gen++;
  }

  get(id: string): ResourceOf<K> | undefined {
    const e = this.entries.get(id);
    return e && { ...e.resource, observedAt: this.observedAtOf(e) };
  }

  /** When an entry was last observed: by itself, or as part of its provider's confirmed listing. */
  observedAtOf(e: Entry<ResourceOf<K>>): string {
    const confirmed = this.confirmedAt.get(e.resource.provider);
    return confirmed !== undefined && confirmed > e.observedAt ? confirmed : e.observedAt;
  }

  /** Ids of `provider` the gateway put or forgot before `before`, which a refresh by changes must read again. */
  touchedBefore(provider: string, before: string): string[] {
    const touched = this.touched.get(provider);
    if (!touched) return [];
    const ids: string[] = [];
    for (const [id, at] of touched) if (at < before) ids.push(id);
    return ids;
  }

  private touch(provider: string, id: string): void {
    const touched = this.touched.get(provider) ?? new Map<string, string>();
    this.touched.set(provider, touched);
    touched.set(id, new Date().toISOString());
  }

  /** Forgets the touches a refresh that began at `listedSince` has read again. */
  private settleTouched(provider: string, listedSince: string): void {
    const touched = this.touched.get(provider);
    if (!touched) return;
    for (const [id, at] of touched) if (at < listedSince) touched.delete(id);
    if (touched.size === 0) this.touched.delete(provider);
  }

  /** Adds or replaces one resource; answers whether anything but its observation time changed. */
  put(resource: ResourceOf<K>): boolean {
    this.forgotten.get(resource.provider)?.delete(resource.id);
    this.touch(resource.provider, resource.id);
    // Even an unchanged resource has a new observation time, which its listing shows.
    this.changed();
    const body = bodyOf(resource);
    const existing = this.entries.get(resource.id);
    this.entries.set(resource.id, { resource, body, observedAt: resource.observedAt });
    if (!existing) this.sorted.splice(lowerBound(this.sorted, resource.id), 0, resource.id);
    return existing?.body !== body;
  }

  delete(id: string, provider = id.slice(0, id.indexOf(':'))): boolean {
    const forgotten = this.forgotten.get(provider) ?? new Map<string, string>();
    this.forgotten.set(provider, forgotten);
    forgotten.set(id, new Date().toISOString());
    this.touch(provider, id);
    if (!this.entries.delete(id)) return false;
    this.changed();
    const at = lowerBound(this.sorted, id);
    if (this.sorted[at] === id) this.sorted.splice(at, 1);
    return true;
  }

  /**
   * Makes `items` the whole of `provider`'s resources as listed from `listedSince` on; answers what the
   * store must write. Resources recorded or forgotten after that moment stay as the gateway left them:
   * the listing may predate them.
   * Serialising thousands of resources is done in chunks, yielding between them, and the view is
   * changed in one synchronous step at the end, so readers never see half a refresh.
   */
  async replaceProvider(provider: string, items: ResourceOf<K>[], listedSince: string): Promise<Diff<ResourceOf<K>>> {
    const bodies: string[] = [];
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && i % CHUNK === 0) await yieldToEventLoop();
      const item = items[i] as ResourceOf<K>;
      // Most resources did not change since the last refresh: their body is the one already kept.
      const existing = this.entries.get(item.id);
      bodies.push(existing && sameData(item, existing.resource, true) ? existing.body : bodyOf(item));
    }
    // The resources the listing no longer shows, looked for before the final step to keep it short.
    const incoming = new Set<string>();
    for (const item of items) incoming.add(item.id);
    const candidates: string[] = [];
    for (const e of this.entries.values()) {
      if (e.resource.provider === provider && !incoming.has(e.resource.id) && e.observedAt < listedSince)
        candidates.push(e.resource.id);
    }
    await yieldToEventLoop();
    // From here to the end is one synchronous step: readers never see half a refresh, nor a page of the view before it.
    // A candidate recorded or forgotten since it was found is no longer gone (or is gone already).
    const gone = candidates.filter((id) => {
      const e = this.entries.get(id);
      return e !== undefined && e.observedAt < listedSince;
    });
    this.changed();
    for (const id of gone) this.entries.delete(id);
    // Read your own writes: what the gateway recorded or forgot after the listing began is newer than the listing.
    const newer = this.newerThan(provider, listedSince);
    const changed: ResourceOf<K>[] = [];
    let added = false;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as ResourceOf<K>;
      if (newer(item.id)) continue;
      // A body compared above may since have been replaced by a put(): the comparison is made again here,
      // by string (cheap when it is the very same string).
      const body = bodies[i] as string;
      const existing = this.entries.get(item.id);
      if (!existing) added = true;
      if (existing?.body !== body) changed.push(item);
      this.entries.set(item.id, { resource: item, body, observedAt: item.observedAt });
    }
    // One sort after a bulk change is cheaper than thousands of ordered inserts.
    if (added) this.sorted = [...this.entries.keys()].sort();
    else if (gone.length > 0) {
      const goneSet = new Set(gone);
      this.sorted = this.sorted.filter((id) => !goneSet.has(id));
    }
    this.settleTouched(provider, listedSince);
    return { changed, gone };
  }

  /**
   * Read your own writes: whether the gateway recorded or forgot a resource of `provider` after a listing began at
   * `listedSince` (then the listing's word on it is older). Takes the provider's forget marks: one refresh reads them.
   */
  private newerThan(provider: string, listedSince: string): (id: string) => boolean {
    const forgotten = this.forgotten.get(provider);
    this.forgotten.delete(provider);
    return (id) => {
      const existing = this.entries.get(id);
      const at = forgotten?.get(id);
      return (existing !== undefined && existing.observedAt > listedSince) || (at !== undefined && at > listedSince);
    };
  }

  /**
   * Applies what a provider reported as changed since its previous refresh (`items` in their current form, `gone`
   * ids), listed from `listedSince` on, and confirms every other entry of the provider as observed at `observedAt`:
   * the same view as `replaceProvider` with the whole listing would make, at the cost of the changes alone. The
   * read-your-writes rules are the same: what the gateway recorded or forgot after `listedSince` stays.
   * Synchronous (changes are few; an adapter answers a full listing instead of thousands of them).
   */
  applyChanges(
    provider: string,
    items: ResourceOf<K>[],
    gone: string[],
    listedSince: string,
    observedAt: string,
  ): Diff<ResourceOf<K>> {
    const newer = this.newerThan(provider, listedSince);
    const changed: ResourceOf<K>[] = [];
    const removed: string[] = [];
    let added = 0;
    for (const item of items) {
      if (item.provider !== provider || newer(item.id)) continue;
      const existing = this.entries.get(item.id);
      // Unchanged (a recheck that agreed): its observation time is the confirmation below.
      if (existing && sameData(item, existing.resource, true)) continue;
      const body = bodyOf(item);
      if (!existing) added++;
      if (existing?.body !== body) changed.push(item);
      this.entries.set(item.id, { resource: item, body, observedAt: item.observedAt });
    }
    for (const id of gone) {
      const e = this.entries.get(id);
      if (e === undefined || e.resource.provider !== provider || e.observedAt > listedSince) continue;
      this.entries.delete(id);
      removed.push(id);
    }
    if (added > 64) this.sorted = [...this.entries.keys()].sort();
    else {
      if (removed.length > 0) {
        const goneSet = new Set(removed);
        this.sorted = this.sorted.filter((id) => !goneSet.has(id));
      }
      for (const item of items) {
        const at = lowerBound(this.sorted, item.id);
        if (this.sorted[at] !== item.id && this.entries.has(item.id)) this.sorted.splice(at, 0, item.id);
      }
    }
    this.confirmedAt.set(provider, observedAt);
    // Every entry of the provider now shows the new observation time: kept pages (which show it) go; the
    // generation (what fronts rendering no observation time key by) moves only when a resource did.
    if (changed.length > 0 || removed.length > 0) this.changed();
    else this.pages.clear();
    this.settleTouched(provider, listedSince);
    return { changed, gone: removed };
  }

  /** Up to `limit` entries after `after` (exclusive) matching `filter`, in id order. */
  page(filter: ViewFilter, after: string | undefined, limit: number): Array<Entry<ResourceOf<K>>> {
    const providers = filter.providers && new Set(filter.providers);
    const out: Array<Entry<ResourceOf<K>>> = [];
    let i = after === undefined ? 0 : lowerBound(this.sorted, after);
    if (after !== undefined && this.sorted[i] === after) i++;
    for (; i < this.sorted.length && out.length < limit; i++) {
      const e = this.entries.get(this.sorted[i] as string) as Entry<ResourceOf<K>>;
      const r = e.resource as ResourceOf<K> & { state?: string; name?: string; tags?: Record<string, string> };
      if (providers && !providers.has(r.provider)) continue;
      if (filter.state !== undefined && r.state !== filter.state) continue;
      if (filter.name !== undefined && r.name !== filter.name) continue;
      if (filter.tags?.some((t) => !(r.tags && t.key in r.tags && (t.value === undefined || r.tags[t.key] === t.value))))
        continue;
      if (filter.where && !filter.where(r)) continue;
      out.push(e);
    }
    return out;
  }

  /**
   * The encoded page for `key` as kept since the view last changed, else the one `build` makes, kept for
   * the next reader. `key` must name everything the page depends on besides the view's entries.
   */
  encodedPage(key: string, build: () => Buffer): Buffer {
    const kept = this.pages.get(key);
    if (kept) return kept;
    const page = build();
    this.pages.set(key, page);
    return page;
  }

  /** The resource with its observation time (the entry's own unless given, as `observedAtOf` answers it) and freshness. */
  static toResource<R>(e: Entry<R>, freshness: Freshness, observedAt = e.observedAt): R {
    return { ...e.resource, observedAt, freshness };
  }

  /** The same resource as JSON, built once per observation time from the pre-serialised body. */
  static toJson<R>(e: Entry<R>, freshness: Freshness, observedAt = e.observedAt): string {
    if (e.json?.at !== observedAt) e.json = { at: observedAt };
    e.json[freshness] ??= `{"observedAt":${JSON.stringify(observedAt)},"freshness":"${freshness}",${e.body.slice(1)}`;
    return e.json[freshness];
  }
}

export type ViewEntry<K extends ResourceKind> = Entry<ResourceOf<K>>;

/**
 * The single pane of glass: one inventory across providers, served from an in-memory view that is
 * refreshed from every provider in parallel and persisted in the store, so reads stay fast, keep
 * answering while a cloud is down, and survive a gateway restart.
 */
import { decodeCursor, encodeCursor } from '../cursor.js';
import { yieldToEventLoop } from '../event-loop.js';
import { SkygateError, toSkygateError } from '../errors.js';
import { parseId } from '../ids.js';
import type { ResourceKind, ResourceOf } from '../model.js';
import type { ProviderRegistry } from '../registry.js';
import { getNative, listAllNative, toResource, type NativeOf } from '../resources.js';
import type { TaggableKind } from '../ports.js';
import { InventoryView, type ViewEntry } from './inventory-view.js';
import type { ProviderSyncState, Store } from '../store-port.js';

export interface InventoryOptions {
  /** A provider's cache older than this is refreshed in the background on the next read. */
  maxAgeMs: number;
  /** How long a read waits for a provider it has never seen (or when asked for fresh data). */
  providerTimeoutMs: number;
}

export const DEFAULT_INVENTORY_OPTIONS: InventoryOptions = { maxAgeMs: 5_000, providerTimeoutMs: 3_000 };

export type ProviderListingStatus = 'fresh' | 'stale' | 'unavailable';

export interface ProviderListing {
  id: string;
  status: ProviderListingStatus;
  observedAt?: string;
  error?: string;
}

export interface ListQuery {
  providers?: string[];
  state?: string;
  name?: string;
  tags?: Array<{ key: string; value?: string }>;
  /** Further selection applied while paging (see ViewFilter.where). */
  where?: (resource: ResourceOf<ResourceKind>) => boolean;
  /**
   * Answer the view's own objects instead of copies marked with their freshness: for hot paths that only
   * read (a front rendering a page); the objects must not be changed.
   */
  shared?: boolean;
  limit: number;
  cursor?: string;
  /** Wait for a refresh from every selected provider (bounded by the provider timeout). */
  fresh?: boolean;
}

export interface Listing<K extends ResourceKind> {
  items: ResourceOf<K>[];
  /**
   * Per item, a string that changes whenever the item does (its serialised form, already kept by the
   * view): a cache key for fronts that render items in another dialect (EC2's XML).
   */
  versions: string[];
  nextCursor?: string;
  providers: ProviderListing[];
}

/**
 * What a cursor is bound to: the collection and the filters it was listed with (a `where` predicate cannot be
 * compared; the fronts that pass one bind their own tokens to their query, as the EC2 front does).
 */
const cursorScope = (kind: ResourceKind, q: ListQuery) => ({
  collection: `${kind}s`,
  filters: { providers: q.providers, state: q.state, name: q.name, tags: q.tags },
});

/** Resources converted between two yields to the event loop during a refresh. */
const REFRESH_CHUNK = 500;

const KINDS: ResourceKind[] = ['instance', 'image', 'snapshot', 'volume', 'flavor'];

interface Selection<K extends ResourceKind> {
  entries: ViewEntry<K>[];
  nextCursor?: string;
  providers: ProviderListing[];
  stale: Set<string>;
}

export class InventoryService {
  private readonly sync = new Map<string, ProviderSyncState>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly views = new Map<ResourceKind, InventoryView<ResourceKind>>();
  /** Per provider and kind, the adapter's token for its next `listChanges` (adapters that offer it). */
  private readonly changeTokens = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly registry: ProviderRegistry,
    private readonly options: InventoryOptions = DEFAULT_INVENTORY_OPTIONS,
  ) {
    for (const kind of KINDS) this.views.set(kind, new InventoryView());
  }

  /** Loads the last known inventory and sync states, so a restarted gateway answers at once. */
  async init(): Promise<void> {
    for (const s of await this.store.getSyncStates()) this.sync.set(`${s.provider}/${s.kind}`, s);
    const providers = this.registry.ids();
    for (const kind of KINDS) {
      const view = this.view(kind);
      let after: string | undefined;
      for (;;) {
        const rows = await this.store.queryInventory({ kind, providers, limit: 5000, after });
        for (const r of rows) view.put(r);
        if (rows.length < 5000) break;
        after = rows.at(-1)?.id;
      }
    }
  }

  async list<K extends ResourceKind>(kind: K, q: ListQuery): Promise<Listing<K>> {
    const sel = await this.select(kind, q);
    return {
      items: q.shared
        ? sel.entries.map((e) => e.resource)
        : sel.entries.map((e) =>
            InventoryView.toResource(e, sel.stale.has(e.resource.provider) ? 'stale' : 'fresh', this.view(kind).observedAtOf(e)),
          ),
      versions: sel.entries.map((e) => e.body),
      ...(sel.nextCursor !== undefined && { nextCursor: sel.nextCursor }),
      providers: sel.providers,
    };
  }

  /**
   * The same listing as `list`, already encoded as UTF-8 JSON: the REST front's hot path. The page is
   * joined from each resource's cached JSON, and the whole encoded page is kept by the view until the
   * view next changes, so a repeated query costs a lookup.
   */
  async listJson(kind: ResourceKind, q: ListQuery): Promise<Buffer> {
    const { providers, after, statuses } = await this.prepare(kind, q);
    // Nothing is awaited from here on: the page matches the view and the statuses of this one moment.
    const providersJson = JSON.stringify(statuses);
    const build = () => {
      const sel = this.pageOf(kind, q, providers, after, statuses);
      const view = this.view(kind);
      const items = sel.entries.map((e) =>
        InventoryView.toJson(e, sel.stale.has(e.resource.provider) ? 'stale' : 'fresh', view.observedAtOf(e)),
      );
      const cursor = sel.nextCursor === undefined ? '' : `,"nextCursor":${JSON.stringify(sel.nextCursor)}`;
      return Buffer.from(`{"items":[${items.join(',')}]${cursor},"providers":${providersJson}}`);
    };
    // A `where` predicate cannot be part of a key.
    if (q.where) return build();
    // Everything the page depends on besides the view's entries: the selection, the page's position and
    // the providers' statuses (which also decide each item's freshness).
    const key = `${providersJson}\n${JSON.stringify([providers, q.state, q.name, q.tags, q.limit, after])}`;
    return this.view(kind).encodedPage(key, build);
  }

  /**
   * Brings the providers' caches of `kind` up to date as a listing would (a refresh behind when old, a wait when
   * never listed) and answers the view's generation, which changes whenever anything listed of `kind` does: for a
   * front that keeps its own rendering of a listing, and re-renders it only when this changes.
   */
  async generation(kind: ResourceKind, providers = this.registry.ids()): Promise<number> {
    for (const p of providers) this.registry.cloud(p, 'query.provider');
    await this.refreshDue(kind, providers, false);
    return this.view(kind).generation;
  }

  /**
   * Reads one resource live from its provider and caches it; if the provider is unavailable, answers
   * the cached copy marked stale rather than failing.
   */
  async get<K extends ResourceKind>(kind: K, id: string, field = 'path.id'): Promise<ResourceOf<K>> {
    const ref = parseId(id, field);
    const adapter = this.registry.cloud(ref.provider, field);
    try {
      const native = await getNative(adapter, kind, ref.nativeId);
      return await this.record(kind, ref.provider, native);
    } catch (e) {
      const err = toSkygateError(e, ref.provider);
      if (err.code === 'not_found') {
        await this.forget(kind, id);
        throw new SkygateError('not_found', `${kind} '${id}' does not exist`, { field, provider: ref.provider });
      }
      const cached = this.view(kind).get(id);
      if (cached && (err.code === 'provider_unavailable' || err.code === 'timeout')) return { ...cached, freshness: 'stale' };
      throw err;
    }
  }

  /** Caches what the gateway itself just learned (a create, an action) so reads see it at once. */
  async record<K extends ResourceKind>(kind: K, provider: string, native: NativeOf<K>): Promise<ResourceOf<K>> {
    const resource = toResource(kind, provider, native, new Date().toISOString());
    // Polling a resource that did not change costs no write.
    if (this.view(kind).put(resource)) await this.store.putResource(kind, resource);
    return resource;
  }

  /**
   * Shows an accepted action's effect at once (`stopping` once a stop is accepted, as EC2 answers), so a
   * read right after the answer agrees with it. Only while the cached resource is still in state `from`
   * (the one the action was checked against): a newer state that the operation recorded is never undone.
   */
  async markTransition(kind: ResourceKind, id: string, from: string, to: string): Promise<void> {
    const cached = this.view(kind).get(id) as { state?: string } | undefined;
    if (cached?.state !== from || from === to) return;
    const resource = { ...cached, state: to, observedAt: new Date().toISOString() } as ResourceOf<ResourceKind>;
    if (this.view(kind).put(resource)) await this.store.putResource(kind, resource);
  }

  async forget(kind: ResourceKind, id: string): Promise<void> {
    if (this.view(kind).delete(id)) await this.store.deleteResource(kind, id);
  }

  /** Per-provider cache state for every kind, for the dashboard and /readyz. */
  syncStates(): ProviderSyncState[] {
    return [...this.sync.values()];
  }

  private view<K extends ResourceKind>(kind: K): InventoryView<K> {
    return this.views.get(kind) as unknown as InventoryView<K>;
  }

  private async select<K extends ResourceKind>(kind: K, q: ListQuery): Promise<Selection<K>> {
    const { providers, after, statuses } = await this.prepare(kind, q);
    return this.pageOf(kind, q, providers, after, statuses);
  }

  /** Checks the query and brings the selected providers' caches up to date as the query asks. */
  private async prepare(
    kind: ResourceKind,
    q: ListQuery,
  ): Promise<{ providers: string[]; after: string | undefined; statuses: ProviderListing[] }> {
    const providers = q.providers ?? this.registry.ids();
    for (const p of providers) this.registry.cloud(p, 'query.provider');
    let after: string | undefined;
    if (q.cursor !== undefined) {
      const scope = cursorScope(kind, q);
      after = decodeCursor(q.cursor, scope.collection, scope.filters);
    }
    await this.refreshDue(kind, providers, q.fresh === true);
    return { providers, after, statuses: providers.map((p) => this.status(p, kind)) };
  }

  /** One page from the view as it is now (synchronous, so it matches `statuses`). */
  private pageOf<K extends ResourceKind>(
    kind: K,
    q: ListQuery,
    providers: string[],
    after: string | undefined,
    statuses: ProviderListing[],
  ): Selection<K> {
    const entries = this.view(kind).page(
      { providers, state: q.state, name: q.name, tags: q.tags, where: q.where },
      after,
      q.limit + 1,
    );
    const page = entries.slice(0, q.limit);
    const last = page.at(-1);
    const scope = cursorScope(kind, q);
    return {
      entries: page,
      ...(entries.length > q.limit && last && { nextCursor: encodeCursor(scope.collection, scope.filters, last.resource.id) }),
      providers: statuses,
      stale: new Set(statuses.filter((s) => s.status !== 'fresh').map((s) => s.id)),
    };
  }

  /** Starts the refreshes of `kind` that are due and waits for those a reader must wait for (none, mostly). */
  private async refreshDue(kind: ResourceKind, providers: string[], force: boolean): Promise<void> {
    const waits = providers.map((p) => this.refreshIfDue(p, kind, force)).filter((w) => w !== undefined);
    if (waits.length > 0) await Promise.all(waits);
  }

  /**
   * Starts a refresh of the provider's cache of `kind` when it is due. Stale-while-revalidate: a known cache
   * answers now and refreshes behind; only an empty cache (or an explicit `fresh`) makes the reader wait, and
   * then no longer than the provider timeout: answers what to wait for then, and undefined otherwise.
   */
  private refreshIfDue(provider: string, kind: ResourceKind, force: boolean): Promise<unknown> | undefined {
    const state = this.sync.get(`${provider}/${kind}`);
    const now = Date.now();
    const age = state?.observedAt ? now - Date.parse(state.observedAt) : Number.POSITIVE_INFINITY;
    const attemptAge = state ? now - Date.parse(state.attemptedAt) : Number.POSITIVE_INFINITY;
    if (!force && (age <= this.options.maxAgeMs || attemptAge <= this.options.maxAgeMs / 2)) return undefined;
    const refresh = this.refresh(provider, kind);
    if (!force && state?.observedAt) return undefined;
    return Promise.race([refresh, new Promise((r) => setTimeout(r, this.options.providerTimeoutMs).unref())]);
  }

  private status(provider: string, kind: ResourceKind): ProviderListing {
    const state = this.sync.get(`${provider}/${kind}`);
    if (!state?.observedAt) {
      return { id: provider, status: 'unavailable', ...(state?.error && { error: state.error }) };
    }
    return {
      id: provider,
      status: state.ok ? 'fresh' : 'stale',
      observedAt: state.observedAt,
      ...(!state.ok && state.error && { error: state.error }),
    };
  }

  /**
   * Brings the view and the store in line with the provider, as listed from `listedSince` on; answers the
   * observation time. An adapter that tells what changed since its last token (the sim) costs only its changes
   * (and the ids the gateway itself wrote since, read again); any other, or one that cannot tell, is listed whole.
   */
  private async relist(provider: string, kind: ResourceKind, listedSince: string): Promise<string> {
    const adapter = this.registry.cloud(provider);
    const view = this.view(kind);
    const tokenKey = `${provider}/${kind}`;
    let next: string | undefined;
    if (kind !== 'flavor' && adapter.listChanges) {
      const since = this.changeTokens.get(tokenKey);
      const touched = since === undefined ? [] : view.touchedBefore(provider, listedSince);
      const prefix = `${provider}:`;
      const answer = await adapter.listChanges(
        kind as TaggableKind,
        since,
        touched.map((id) => id.slice(prefix.length)),
      );
      next = answer.next;
      if (answer.changes) {
        const observedAt = new Date().toISOString();
        const items = answer.changes.items.map((n) => toResource(kind, provider, n as NativeOf<ResourceKind>, observedAt));
        const gone = answer.changes.gone.map((id) => `${prefix}${id}`);
        const diff = view.applyChanges(provider, items, gone, listedSince, observedAt);
        await this.store.patchInventory<ResourceKind>(provider, kind, diff, observedAt);
        this.changeTokens.set(tokenKey, next);
        return observedAt;
      }
    }
    const natives = await listAllNative(adapter, kind);
    const observedAt = new Date().toISOString();
    // Thousands of conversions in one go would stall every request for tens of milliseconds.
    const items: ResourceOf<ResourceKind>[] = [];
    for (const [i, n] of natives.entries()) {
      if (i > 0 && i % REFRESH_CHUNK === 0) await yieldToEventLoop();
      items.push(toResource(kind, provider, n, observedAt));
    }
    const diff = await view.replaceProvider(provider, items, listedSince);
    await this.store.patchInventory(provider, kind, diff, observedAt);
    if (next === undefined) this.changeTokens.delete(tokenKey);
    else this.changeTokens.set(tokenKey, next);
    return observedAt;
  }

  /** One refresh per provider and kind at a time, however many readers ask. */
  private refresh(provider: string, kind: ResourceKind): Promise<void> {
    const key = `${provider}/${kind}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const attemptedAt = new Date().toISOString();
    const previous = this.sync.get(key);
    // Mark the attempt at once so concurrent readers do not start a second refresh.
    this.sync.set(key, {
      provider,
      kind,
      attemptedAt,
      ok: previous?.ok ?? false,
      observedAt: previous?.observedAt,
      error: previous?.error,
    });
    const run = (async () => {
      let next: ProviderSyncState;
      try {
        const observedAt = await this.relist(provider, kind, attemptedAt);
        next = { provider, kind, attemptedAt, observedAt, ok: true };
      } catch (e) {
        next = {
          provider,
          kind,
          attemptedAt,
          observedAt: previous?.observedAt,
          ok: false,
          error: toSkygateError(e, provider).message,
        };
      }
      this.sync.set(key, next);
      await this.store.putSyncState(next).catch(() => undefined);
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, run);
    return run;
  }
}

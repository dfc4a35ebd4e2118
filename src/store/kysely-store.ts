/** The Store over Kysely: one implementation for SQLite and PostgreSQL, with the few dialect differences marked. */
import { Migrator, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { invalid, notFound, SkygateError } from '../core/errors.js';
import type { Operation, OperationStatus, ResourceKind, ResourceOf, Role, SkygateEvent, Tags } from '../core/model.js';
import { HaRepository } from './ha-repository.js';
import { DesiredPoolRepository } from './lb-desired-pools.js';
import { migrations } from './migrations/index.js';
import type { AccessKeyTable, Database, InventoryTable, KeyPairTable, OperationTable } from './schema.js';
import type {
  AccessKey,
  ApiToken,
  DesiredPool,
  Fence,
  IdAlias,
  IdempotencyRecord,
  InstanceAttributeRecord,
  InstanceAttributes,
  InventoryQuery,
  KeyPair,
  Lease,
  OperationQuery,
  ProtectionGroupRecord,
  ProviderSyncState,
  ReplicaRecord,
  Store,
  StoredAccessKey,
} from '../core/store-port.js';

/** Rows per multi-row statement: keeps bound parameters far below SQLite's 32,766 and PostgreSQL's 65,535. */
const CHUNK = 500;

/** Rows a replaceInventory must write or delete before PostgreSQL statistics are refreshed on the spot. */
const ANALYZE_AFTER_ROWS = 1000;

/** Advisory lock serialising event appends on PostgreSQL (an arbitrary constant, 'skyg' in ASCII). */
const EVENT_APPEND_LOCK = 0x736b7967;

export interface StoreLog {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

type AnyResource = ResourceOf<ResourceKind>;

interface ResourceRow {
  row: InventoryTable;
  tags: Array<[string, string]>;
}

export class KyselyStore implements Store {
  private readonly desiredPools: DesiredPoolRepository;
  private readonly ha: HaRepository;

  constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: Store['dialect'],
    private readonly log?: StoreLog,
  ) {
    this.desiredPools = new DesiredPoolRepository(db, dialect);
    this.ha = new HaRepository(db, dialect);
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrations(this.dialect) });
    const { error, results = [] } = await migrator.migrateToLatest();
    const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (applied.length > 0) this.log?.info({ dialect: this.dialect, migrations: applied }, 'store migrated');
    if (error !== undefined) {
      throw new SkygateError('internal', `store migration failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- inventory ----

  async replaceInventory<K extends ResourceKind>(
    provider: string,
    kind: K,
    items: ResourceOf<K>[],
    observedAt: string,
  ): Promise<void> {
    const incoming = new Map<string, ResourceRow>();
    for (const item of items) {
      if (item.provider !== provider) {
        throw new SkygateError(
          'internal',
          `inventory of '${provider}' was given ${kind} '${item.id}' of provider '${item.provider}'`,
        );
      }
      incoming.set(item.id, toResourceRow(kind, item, observedAt));
    }

    const written = await this.db.transaction().execute(async (trx) => {
      // Refreshes mostly find nothing changed. Rather than rewrite every row to move its observedAt on,
      // one row records the refresh and reads take the later of it and the row's own time.
      // Written first on purpose: it takes the write lock before the read below, so a SQLite writer in
      // another process makes this wait (busy_timeout) instead of failing on a stale snapshot, and
      // concurrent replaces of one provider and kind on PostgreSQL queue on this row.
      await markRefresh(trx, provider, kind, observedAt);
      const stored = await trx
        .selectFrom('inventory')
        .select(['id', 'data'])
        .where('kind', '=', kind)
        .where('provider', '=', provider)
        .execute();
      const gone: string[] = [];
      const unchanged = new Set<string>();
      for (const { id, data } of stored) {
        const next = incoming.get(id);
        if (next === undefined) gone.push(id);
        else if (next.row.data === data) unchanged.add(id);
      }
      const changed = [...incoming.values()].filter((r) => !unchanged.has(r.row.id));
      await deleteResources(trx, kind, gone);
      await writeResources(trx, kind, changed);
      return gone.length + changed.length;
    });
    await this.analyzeAfterBulk(written);
  }

  async patchInventory<K extends ResourceKind>(
    provider: string,
    kind: K,
    changes: { changed: ResourceOf<K>[]; gone: string[] },
    observedAt: string,
  ): Promise<void> {
    const rows = changes.changed.map((item) => toResourceRow(kind, item, observedAt));
    await this.db.transaction().execute(async (trx) => {
      await markRefresh(trx, provider, kind, observedAt);
      await deleteResources(trx, kind, changes.gone);
      await writeResources(trx, kind, rows);
    });
    await this.analyzeAfterBulk(rows.length + changes.gone.length);
  }

  // PostgreSQL plans from statistics that autovacuum refreshes only about a minute later; until then a
  // first bulk load looks empty to the planner, which then sorts the whole table for every page.
  private async analyzeAfterBulk(written: number): Promise<void> {
    if (this.dialect === 'postgres' && written >= ANALYZE_AFTER_ROWS) {
      await sql`analyze inventory, inventory_tags`.execute(this.db);
    }
  }

  async putResource<K extends ResourceKind>(kind: K, item: ResourceOf<K>): Promise<void> {
    await this.db.transaction().execute((trx) => writeResources(trx, kind, [toResourceRow(kind, item, item.observedAt)]));
  }

  async deleteResource(kind: ResourceKind, id: string): Promise<void> {
    await this.db.transaction().execute((trx) => deleteResources(trx, kind, [id]));
  }

  async getResource<K extends ResourceKind>(kind: K, id: string): Promise<ResourceOf<K> | undefined> {
    const row = await this.inventoryRows().where('i.kind', '=', kind).where('i.id', '=', id).executeTakeFirst();
    return row && fromResourceRow<K>(row);
  }

  async queryInventory<K extends ResourceKind>(q: InventoryQuery & { kind: K }): Promise<ResourceOf<K>[]> {
    if (q.providers?.length === 0) return [];
    let query = this.inventoryRows().where('i.kind', '=', q.kind);
    if (q.providers !== undefined) query = query.where('i.provider', 'in', q.providers);
    if (q.state !== undefined) query = query.where('i.state', '=', q.state);
    if (q.name !== undefined) query = query.where('i.name', '=', q.name);
    for (const { key, value } of q.tags ?? []) {
      query = query.where(({ exists, selectFrom }) => {
        let tag = selectFrom('inventory_tags as t')
          .select('t.key')
          .whereRef('t.kind', '=', 'i.kind')
          .whereRef('t.id', '=', 'i.id')
          .where('t.key', '=', key);
        if (value !== undefined) tag = tag.where('t.value', '=', value);
        return exists(tag);
      });
    }
    if (q.after !== undefined) query = query.where('i.id', '>', q.after);
    const rows = await query.orderBy('i.id').limit(q.limit).execute();
    return rows.map((row) => fromResourceRow<K>(row));
  }

  private inventoryRows() {
    return this.db
      .selectFrom('inventory as i')
      .leftJoin('inventory_refreshes as r', (join) => join.onRef('r.provider', '=', 'i.provider').onRef('r.kind', '=', 'i.kind'))
      .select(['i.data', 'i.observed_at', 'r.observed_at as refreshed_at']);
  }

  async putSyncState(state: ProviderSyncState): Promise<void> {
    await this.db
      .insertInto('sync_states')
      .values({
        provider: state.provider,
        kind: state.kind,
        observed_at: state.observedAt ?? null,
        attempted_at: state.attemptedAt,
        ok: state.ok ? 1 : 0,
        error: state.error ?? null,
      })
      .onConflict((oc) =>
        oc.columns(['provider', 'kind']).doUpdateSet((eb) => ({
          // A failed attempt carries no observedAt; it must not erase when the last success was.
          observed_at: eb.fn.coalesce('excluded.observed_at', 'sync_states.observed_at'),
          attempted_at: eb.ref('excluded.attempted_at'),
          ok: eb.ref('excluded.ok'),
          error: eb.ref('excluded.error'),
        })),
      )
      .execute();
  }

  async getSyncStates(kind?: ResourceKind): Promise<ProviderSyncState[]> {
    let query = this.db.selectFrom('sync_states').selectAll();
    if (kind !== undefined) query = query.where('kind', '=', kind);
    const rows = await query.orderBy('provider').orderBy('kind').execute();
    return rows.map((r) => ({
      provider: r.provider,
      kind: r.kind as ResourceKind,
      ...(r.observed_at !== null && { observedAt: r.observed_at }),
      attemptedAt: r.attempted_at,
      ok: r.ok === 1,
      ...(r.error !== null && { error: r.error }),
    }));
  }

  // ---- operations ----

  async insertOperation(
    op: Operation,
    idempotency?: Omit<IdempotencyRecord, 'operationId'>,
  ): Promise<{ operation: Operation; created: boolean; requestHash?: string }> {
    if (idempotency === undefined) {
      await this.db.insertInto('operations').values(toOperationRow(op)).execute();
      return { operation: op, created: true };
    }
    return this.db.transaction().execute(async (trx) => {
      // On PostgreSQL a concurrent claim of the same key blocks here until the other transaction
      // ends, then does nothing; the read below then sees the winner's committed rows.
      const claimed = await trx
        .insertInto('idempotency')
        .values({
          principal: idempotency.principal,
          key: idempotency.key,
          request_hash: idempotency.requestHash,
          operation_id: op.id,
          created_at: op.createdAt,
        })
        .onConflict((oc) => oc.columns(['principal', 'key']).doNothing())
        .returning('operation_id')
        .executeTakeFirst();
      if (claimed !== undefined) {
        await trx.insertInto('operations').values(toOperationRow(op)).execute();
        return { operation: op, created: true, requestHash: idempotency.requestHash };
      }
      const earlier = await trx
        .selectFrom('idempotency as k')
        .innerJoin('operations as o', 'o.id', 'k.operation_id')
        .selectAll('o')
        .select('k.request_hash')
        .where('k.principal', '=', idempotency.principal)
        .where('k.key', '=', idempotency.key)
        .executeTakeFirstOrThrow();
      return { operation: fromOperationRow(earlier), created: false, requestHash: earlier.request_hash };
    });
  }

  async updateOperation(op: Operation): Promise<void> {
    const row = toOperationRow(op);
    const result = await this.db
      .updateTable('operations')
      .set({ status: row.status, target: row.target, updated_at: row.updated_at, data: row.data })
      .where('id', '=', op.id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('operation', op.id);
  }

  async getOperation(id: string): Promise<Operation | undefined> {
    const row = await this.db.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromOperationRow(row);
  }

  async listOperations(q: OperationQuery): Promise<Operation[]> {
    if (q.status?.length === 0) return [];
    let query = this.db.selectFrom('operations').selectAll();
    if (q.status !== undefined) query = query.where('status', 'in', q.status);
    if (q.kind !== undefined) query = query.where('kind', '=', q.kind);
    if (q.provider !== undefined) query = query.where('provider', '=', q.provider);
    if (q.after !== undefined) {
      const cursor = await this.db
        .selectFrom('operations')
        .select(['created_at', 'id'])
        .where('id', '=', q.after)
        .executeTakeFirst();
      if (cursor === undefined) throw invalid('after', `no operation '${q.after}' to continue after`);
      query = query.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('created_at', 'id'), '<', tuple(cursor.created_at, cursor.id)),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    return rows.map(fromOperationRow);
  }

  async unfinishedOperations(): Promise<Operation[]> {
    const rows = await this.db
      .selectFrom('operations')
      .selectAll()
      .where('status', 'in', ['pending', 'running'])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(fromOperationRow);
  }

  // ---- events ----

  async appendEvent(e: Omit<SkygateEvent, 'seq'>): Promise<SkygateEvent> {
    const insert = (db: Kysely<Database>) =>
      db
        .insertInto('events')
        .values({ type: e.type, time: e.time, subject: e.subject ?? null, data: JSON.stringify(e.data) })
        .returning('seq')
        .executeTakeFirstOrThrow();
    // PostgreSQL hands out sequence values at insert but shows rows at commit, so concurrent appends
    // could become visible out of order and a reader polling `eventsSince` would skip the late one.
    // Serialising appends makes seq order commit order. SQLite already has a single writer.
    const { seq } =
      this.dialect === 'postgres'
        ? await this.db.transaction().execute(async (trx) => {
            await sql`select pg_advisory_xact_lock(${EVENT_APPEND_LOCK})`.execute(trx);
            return insert(trx);
          })
        : await insert(this.db);
    return { seq: Number(seq), type: e.type, time: e.time, ...(e.subject !== undefined && { subject: e.subject }), data: e.data };
  }

  async eventsSince(seq: number, limit: number): Promise<SkygateEvent[]> {
    const rows = await this.db.selectFrom('events').selectAll().where('seq', '>', seq).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      type: r.type,
      time: r.time,
      ...(r.subject !== null && { subject: r.subject }),
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  // ---- API tokens ----

  async insertToken(token: ApiToken & { hash: string }): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        id: token.id,
        name: token.name,
        role: token.role,
        hash: token.hash,
        created_at: token.createdAt,
        revoked_at: token.revokedAt ?? null,
      })
      .execute();
  }

  async findTokenByHash(hash: string): Promise<ApiToken | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row && fromTokenRow(row);
  }

  async listTokens(): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(fromTokenRow);
  }

  /** True when the token exists; revoking twice keeps the first revocation time. */
  async revokeToken(id: string, at: string): Promise<boolean> {
    await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    const row = await this.db.selectFrom('api_tokens').select('id').where('id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  async getToken(id: string): Promise<ApiToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromTokenRow(row);
  }

  // ---- access keys ----

  async insertAccessKey(key: StoredAccessKey): Promise<void> {
    await this.db
      .insertInto('access_keys')
      .values({
        id: key.id,
        token_id: key.tokenId,
        name: key.name,
        role: key.role,
        secret: key.secret,
        created_at: key.createdAt,
        revoked_at: key.revokedAt ?? null,
      })
      .execute();
  }

  async getAccessKey(id: string): Promise<StoredAccessKey | undefined> {
    const row = await this.db.selectFrom('access_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { ...fromAccessKeyRow(row), secret: row.secret };
  }

  async listAccessKeys(tokenId?: string): Promise<AccessKey[]> {
    let query = this.db
      .selectFrom('access_keys')
      .select(['id', 'token_id', 'name', 'role', 'created_at', 'revoked_at'])
      .orderBy('created_at')
      .orderBy('id');
    if (tokenId !== undefined) query = query.where('token_id', '=', tokenId);
    return (await query.execute()).map(fromAccessKeyRow);
  }

  async revokeAccessKey(id: string, at: string): Promise<boolean> {
    await this.db
      .updateTable('access_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    const row = await this.db.selectFrom('access_keys').select('id').where('id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  // ---- id aliases ----

  async putIdAliases(aliases: IdAlias[]): Promise<void> {
    for (let i = 0; i < aliases.length; i += CHUNK) {
      await this.db
        .insertInto('id_aliases')
        .values(aliases.slice(i, i + CHUNK))
        .onConflict((oc) => oc.columns(['namespace', 'alias']).doNothing())
        .execute();
    }
  }

  async getIdAliases(namespace: string, aliases: string[]): Promise<IdAlias[]> {
    const out: IdAlias[] = [];
    for (let i = 0; i < aliases.length; i += CHUNK) {
      out.push(
        ...(await this.db
          .selectFrom('id_aliases')
          .selectAll()
          .where('namespace', '=', namespace)
          .where('alias', 'in', aliases.slice(i, i + CHUNK))
          .execute()),
      );
    }
    return out;
  }

  // ---- key pairs ----

  async insertKeyPair(keyPair: KeyPair): Promise<boolean> {
    const inserted = await this.db
      .insertInto('key_pairs')
      .values({
        provider: keyPair.provider,
        name: keyPair.name,
        id: keyPair.id,
        key_type: keyPair.keyType,
        fingerprint: keyPair.fingerprint,
        public_key: keyPair.publicKey,
        tags: JSON.stringify(keyPair.tags),
        created_at: keyPair.createdAt,
      })
      .onConflict((oc) => oc.columns(['provider', 'name']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async listKeyPairs(provider: string): Promise<KeyPair[]> {
    const rows = await this.db.selectFrom('key_pairs').selectAll().where('provider', '=', provider).orderBy('name').execute();
    return rows.map(fromKeyPairRow);
  }

  async deleteKeyPair(provider: string, name: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('key_pairs')
      .where('provider', '=', provider)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- instance attributes ----

  async getInstanceAttributes(instanceIds: string[]): Promise<InstanceAttributeRecord[]> {
    const out: InstanceAttributeRecord[] = [];
    for (let i = 0; i < instanceIds.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom('instance_attributes')
        .selectAll()
        .where('instance_id', 'in', instanceIds.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) {
        out.push({ instanceId: r.instance_id, attributes: JSON.parse(r.data) as InstanceAttributes, updatedAt: r.updated_at });
      }
    }
    return out;
  }

  async putInstanceAttributes(record: InstanceAttributeRecord): Promise<void> {
    await this.db
      .insertInto('instance_attributes')
      .values({ instance_id: record.instanceId, data: JSON.stringify(record.attributes), updated_at: record.updatedAt })
      .onConflict((oc) =>
        oc
          .column('instance_id')
          .doUpdateSet((eb) => ({ data: eb.ref('excluded.data'), updated_at: eb.ref('excluded.updated_at') })),
      )
      .execute();
  }

  // ---- load balancer desired state (a repository of its own) ----

  getDesiredPool(lbProvider: string, poolId: string): Promise<DesiredPool | undefined> {
    return this.desiredPools.get(lbProvider, poolId);
  }

  listDesiredPools(): Promise<DesiredPool[]> {
    return this.desiredPools.list();
  }

  putDesiredPool(pool: Omit<DesiredPool, 'generation'>, expectGeneration?: number, fence?: Fence): Promise<DesiredPool> {
    return this.desiredPools.put(pool, expectGeneration, fence);
  }

  deleteDesiredPool(lbProvider: string, poolId: string): Promise<boolean> {
    return this.desiredPools.delete(lbProvider, poolId);
  }

  // ---- protection groups, replicas and leases (HA; a repository of their own) ----

  insertProtectionGroup(group: Omit<ProtectionGroupRecord, 'generation'>): Promise<boolean> {
    return this.ha.insertGroup(group);
  }

  getProtectionGroup(id: string): Promise<ProtectionGroupRecord | undefined> {
    return this.ha.getGroup(id);
  }

  listProtectionGroups(): Promise<ProtectionGroupRecord[]> {
    return this.ha.listGroups();
  }

  updateProtectionGroup(
    id: string,
    change: { spec?: Record<string, unknown>; status?: Record<string, unknown>; updatedAt: string },
    opts?: { expectGeneration?: number; fence?: Fence },
  ): Promise<ProtectionGroupRecord> {
    return this.ha.updateGroup(id, change, opts);
  }

  deleteProtectionGroup(id: string): Promise<boolean> {
    return this.ha.deleteGroup(id);
  }

  insertReplica(replica: ReplicaRecord, fence?: Fence): Promise<void> {
    return this.ha.insertReplica(replica, fence);
  }

  listReplicas(groupId: string, filter?: { site?: string; member?: string }): Promise<ReplicaRecord[]> {
    return this.ha.listReplicas(groupId, filter);
  }

  deleteReplica(id: string, fence?: Fence): Promise<boolean> {
    return this.ha.deleteReplica(id, fence);
  }

  acquireLease(name: string, holder: string, ttlMs: number, nowMs: number): Promise<Lease | undefined> {
    return this.ha.acquireLease(name, holder, ttlMs, nowMs);
  }

  getLease(name: string): Promise<Lease | undefined> {
    return this.ha.getLease(name);
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.ha.releaseLease(name, holder);
  }
}

// ---- row mapping ----

/** Stored without `observedAt` (kept in columns, so a refresh need not rewrite the row) and `freshness` (set by readers). */
function toResourceRow(kind: ResourceKind, item: AnyResource, observedAt: string): ResourceRow {
  const { observedAt: _observedAt, freshness: _freshness, ...rest } = item;
  return {
    row: {
      kind,
      id: item.id,
      provider: item.provider,
      name: item.name,
      state: 'state' in item ? item.state : null,
      observed_at: observedAt,
      data: JSON.stringify(rest),
    },
    tags: 'tags' in item ? Object.entries(item.tags) : [],
  };
}

function fromResourceRow<K extends ResourceKind>(row: {
  data: string;
  observed_at: string;
  refreshed_at: string | null;
}): ResourceOf<K> {
  // ISO 8601 UTC strings compare chronologically. A resource put after the last refresh keeps its own, later time.
  const observedAt = row.refreshed_at !== null && row.refreshed_at > row.observed_at ? row.refreshed_at : row.observed_at;
  return { ...(JSON.parse(row.data) as object), observedAt } as ResourceOf<K>;
}

async function markRefresh(trx: Transaction<Database>, provider: string, kind: ResourceKind, observedAt: string): Promise<void> {
  await trx
    .insertInto('inventory_refreshes')
    .values({ provider, kind, observed_at: observedAt })
    .onConflict((oc) => oc.columns(['provider', 'kind']).doUpdateSet({ observed_at: observedAt }))
    .execute();
}

async function writeResources(trx: Transaction<Database>, kind: ResourceKind, resources: ResourceRow[]): Promise<void> {
  for (let i = 0; i < resources.length; i += CHUNK) {
    const chunk = resources.slice(i, i + CHUNK);
    const ids = chunk.map((r) => r.row.id);
    await trx.deleteFrom('inventory_tags').where('kind', '=', kind).where('id', 'in', ids).execute();
    await trx
      .insertInto('inventory')
      .values(chunk.map((r) => r.row))
      .onConflict((oc) =>
        oc.columns(['kind', 'id']).doUpdateSet((eb) => ({
          provider: eb.ref('excluded.provider'),
          name: eb.ref('excluded.name'),
          state: eb.ref('excluded.state'),
          observed_at: eb.ref('excluded.observed_at'),
          data: eb.ref('excluded.data'),
        })),
      )
      .execute();
    const tags = chunk.flatMap((r) => r.tags.map(([key, value]) => ({ kind, id: r.row.id, key, value })));
    for (let j = 0; j < tags.length; j += CHUNK) {
      await trx
        .insertInto('inventory_tags')
        .values(tags.slice(j, j + CHUNK))
        .execute();
    }
  }
}

async function deleteResources(trx: Transaction<Database>, kind: ResourceKind, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    await trx.deleteFrom('inventory_tags').where('kind', '=', kind).where('id', 'in', chunk).execute();
    await trx.deleteFrom('inventory').where('kind', '=', kind).where('id', 'in', chunk).execute();
  }
}

function toOperationRow(op: Operation): OperationTable {
  const { id, kind, status, provider, target, idempotencyKey, createdBy, createdAt, updatedAt, ...rest } = op;
  return {
    id,
    kind,
    status,
    provider: provider ?? null,
    target: target ?? null,
    idempotency_key: idempotencyKey ?? null,
    created_by: createdBy ?? null,
    created_at: createdAt,
    updated_at: updatedAt,
    data: JSON.stringify(rest),
  };
}

function fromOperationRow(row: Selectable<OperationTable>): Operation {
  const rest = JSON.parse(row.data) as Pick<
    Operation,
    'progress' | 'input' | 'steps' | 'state' | 'result' | 'error' | 'attempts'
  >;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status as OperationStatus,
    ...(row.provider !== null && { provider: row.provider }),
    ...(row.target !== null && { target: row.target }),
    ...rest,
    ...(row.idempotency_key !== null && { idempotencyKey: row.idempotency_key }),
    ...(row.created_by !== null && { createdBy: row.created_by }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function fromAccessKeyRow(row: Omit<Selectable<AccessKeyTable>, 'secret'>): AccessKey {
  return {
    id: row.id,
    tokenId: row.token_id,
    name: row.name,
    role: row.role as Role,
    createdAt: row.created_at,
    ...(row.revoked_at !== null && { revokedAt: row.revoked_at }),
  };
}

function fromKeyPairRow(row: Selectable<KeyPairTable>): KeyPair {
  return {
    id: row.id,
    provider: row.provider,
    name: row.name,
    keyType: row.key_type as KeyPair['keyType'],
    fingerprint: row.fingerprint,
    publicKey: row.public_key,
    tags: JSON.parse(row.tags) as Tags,
    createdAt: row.created_at,
  };
}

function fromTokenRow(row: { id: string; name: string; role: string; created_at: string; revoked_at: string | null }): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    createdAt: row.created_at,
    ...(row.revoked_at !== null && { revokedAt: row.revoked_at }),
  };
}

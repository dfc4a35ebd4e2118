/** The store's HA records: protection groups, their replicas, and the leases (with fencing tokens) of controllers. */
import type { Kysely } from 'kysely';
import { conflict, notFound } from '../core/errors.js';
import type { Fence, Lease, ProtectionGroupRecord, ReplicaRecord, Store } from '../core/store-port.js';
import { checkFence } from './ha-fence.js';
import type { Database, HaLeaseTable, ProtectionGroupTable } from './schema.js';

export class HaRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Store['dialect'],
  ) {}

  // ---- protection groups ----

  async insertGroup(g: Omit<ProtectionGroupRecord, 'generation'>): Promise<boolean> {
    const done = await this.db
      .insertInto('protection_groups')
      .values({
        id: g.id,
        name: g.name,
        spec: JSON.stringify(g.spec),
        status: JSON.stringify(g.status),
        generation: 1,
        created_at: g.createdAt,
        updated_at: g.updatedAt,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(done.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async getGroup(id: string): Promise<ProtectionGroupRecord | undefined> {
    const row = await this.db.selectFrom('protection_groups').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromGroupRow(row);
  }

  async listGroups(): Promise<ProtectionGroupRecord[]> {
    return (await this.db.selectFrom('protection_groups').selectAll().orderBy('name').execute()).map(fromGroupRow);
  }

  async updateGroup(
    id: string,
    change: { spec?: Record<string, unknown>; status?: Record<string, unknown>; updatedAt: string },
    opts: { expectGeneration?: number; fence?: Fence } = {},
  ): Promise<ProtectionGroupRecord> {
    return this.db.transaction().execute(async (trx) => {
      await checkFence(trx, this.dialect, opts.fence);
      const row = await trx
        .selectFrom('protection_groups')
        .selectAll()
        .where('id', '=', id)
        .$if(this.dialect === 'postgres', (q) => q.forUpdate())
        .executeTakeFirst();
      if (row === undefined) throw notFound('protection group', id);
      const current = Number(row.generation);
      if (opts.expectGeneration !== undefined && current !== opts.expectGeneration) {
        throw conflict(
          `protection group ${id} is at generation ${current}, not ${opts.expectGeneration}: it changed since it was read`,
        );
      }
      const next = {
        ...row,
        ...(change.spec !== undefined && { spec: JSON.stringify(change.spec) }),
        ...(change.status !== undefined && { status: JSON.stringify(change.status) }),
        generation: current + 1,
        updated_at: change.updatedAt,
      };
      await trx
        .updateTable('protection_groups')
        .set({ spec: next.spec, status: next.status, generation: next.generation, updated_at: next.updated_at })
        .where('id', '=', id)
        .execute();
      return fromGroupRow(next);
    });
  }

  async deleteGroup(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('ha_replicas').where('group_id', '=', id).execute();
      await trx.deleteFrom('ha_leases').where('name', '=', id).execute();
      const gone = await trx.deleteFrom('protection_groups').where('id', '=', id).executeTakeFirst();
      return Number(gone.numDeletedRows) > 0;
    });
  }

  // ---- replicas ----

  async insertReplica(r: ReplicaRecord, fence?: Fence): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await checkFence(trx, this.dialect, fence);
      await trx
        .insertInto('ha_replicas')
        .values({ id: r.id, group_id: r.groupId, member: r.member, site: r.site, data_at: r.dataAt, data: JSON.stringify(r) })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    });
  }

  async listReplicas(groupId: string, filter: { site?: string; member?: string } = {}): Promise<ReplicaRecord[]> {
    const rows = await this.db
      .selectFrom('ha_replicas')
      .select('data')
      .where('group_id', '=', groupId)
      .$if(filter.site !== undefined, (q) => q.where('site', '=', filter.site!))
      .$if(filter.member !== undefined, (q) => q.where('member', '=', filter.member!))
      .orderBy('data_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map((r) => JSON.parse(r.data) as ReplicaRecord);
  }

  async deleteReplica(id: string, fence?: Fence): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await checkFence(trx, this.dialect, fence);
      const gone = await trx.deleteFrom('ha_replicas').where('id', '=', id).executeTakeFirst();
      return Number(gone.numDeletedRows) > 0;
    });
  }

  // ---- leases ----

  async acquireLease(name: string, holder: string, ttlMs: number, nowMs: number): Promise<Lease | undefined> {
    return this.db.transaction().execute(async (trx) => {
      // The row first (token 0, already expired), then locked: two first takers queue on it instead of racing.
      await trx
        .insertInto('ha_leases')
        .values({ name, holder: '', token: 0, expires_at_ms: 0 })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const row = await trx
        .selectFrom('ha_leases')
        .selectAll()
        .where('name', '=', name)
        .$if(this.dialect === 'postgres', (q) => q.forUpdate())
        .executeTakeFirstOrThrow();
      const mine = row.holder === holder && Number(row.expires_at_ms) > nowMs;
      if (!mine && Number(row.expires_at_ms) > nowMs) return undefined;
      // A renewal keeps the token; anything else is a takeover (even by the same holder after it lapsed: it may
      // have been paused while another acted in between and released).
      const token = mine ? Number(row.token) : Number(row.token) + 1;
      const expires = nowMs + ttlMs;
      await trx.updateTable('ha_leases').set({ holder, token, expires_at_ms: expires }).where('name', '=', name).execute();
      return fromLeaseRow({ name, holder, token, expires_at_ms: expires });
    });
  }

  async getLease(name: string): Promise<Lease | undefined> {
    const row = await this.db.selectFrom('ha_leases').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined || row.holder === '' ? undefined : fromLeaseRow(row);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db
      .updateTable('ha_leases')
      .set({ expires_at_ms: 0 })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .execute();
  }
}

function fromGroupRow(r: ProtectionGroupTable): ProtectionGroupRecord {
  return {
    id: r.id,
    name: r.name,
    spec: JSON.parse(r.spec) as Record<string, unknown>,
    status: JSON.parse(r.status) as Record<string, unknown>,
    generation: Number(r.generation),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function fromLeaseRow(r: HaLeaseTable): Lease {
  return { name: r.name, holder: r.holder, token: Number(r.token), expiresAt: new Date(Number(r.expires_at_ms)).toISOString() };
}

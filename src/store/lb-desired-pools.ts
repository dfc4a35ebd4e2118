/** The store's load balancer desired state (HA): managed pools and their targets, one aggregate per pool. */
import type { Kysely, Transaction } from 'kysely';
import { conflict } from '../core/errors.js';
import type { TargetState } from '../core/ports.js';
import type { DesiredPool, DesiredTarget, Fence, Store } from '../core/store-port.js';
import { checkFence } from './ha-fence.js';
import type { Database, LbDesiredTargetTable } from './schema.js';

export class DesiredPoolRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Store['dialect'],
  ) {}

  async get(lbProvider: string, poolId: string): Promise<DesiredPool | undefined> {
    return (await this.read(this.db, lbProvider, poolId))[0];
  }

  async list(): Promise<DesiredPool[]> {
    return this.read(this.db);
  }

  async put(pool: Omit<DesiredPool, 'generation'>, expectGeneration?: number, fence?: Fence): Promise<DesiredPool> {
    const { lbProvider, poolId, updatedAt } = pool;
    return this.db.transaction().execute(async (trx) => {
      await checkFence(trx, this.dialect, fence);
      // The row first, then locked: concurrent first writers of one pool queue on it instead of racing on its key.
      await trx
        .insertInto('lb_desired_pools')
        .values({ lb_provider: lbProvider, pool_id: poolId, generation: 0, updated_at: updatedAt })
        .onConflict((oc) => oc.columns(['lb_provider', 'pool_id']).doNothing())
        .execute();
      const row = await trx
        .selectFrom('lb_desired_pools')
        .select('generation')
        .where('lb_provider', '=', lbProvider)
        .where('pool_id', '=', poolId)
        .$if(this.dialect === 'postgres', (q) => q.forUpdate())
        .executeTakeFirstOrThrow();
      const current = Number(row.generation);
      if (expectGeneration !== undefined && current !== expectGeneration) {
        throw conflict(
          `the desired state of pool ${poolId} on ${lbProvider} is at generation ${current}, not ${expectGeneration}: another writer changed it`,
        );
      }
      const generation = current + 1;
      await trx.deleteFrom('lb_desired_targets').where('lb_provider', '=', lbProvider).where('pool_id', '=', poolId).execute();
      if (pool.targets.length > 0) {
        await trx
          .insertInto('lb_desired_targets')
          .values(pool.targets.map((t) => toTargetRow(lbProvider, poolId, t)))
          .execute();
      }
      await trx
        .updateTable('lb_desired_pools')
        .set({ generation, updated_at: updatedAt })
        .where('lb_provider', '=', lbProvider)
        .where('pool_id', '=', poolId)
        .execute();
      return (await this.read(trx, lbProvider, poolId))[0]!;
    });
  }

  async delete(lbProvider: string, poolId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('lb_desired_targets').where('lb_provider', '=', lbProvider).where('pool_id', '=', poolId).execute();
      const gone = await trx
        .deleteFrom('lb_desired_pools')
        .where('lb_provider', '=', lbProvider)
        .where('pool_id', '=', poolId)
        .executeTakeFirst();
      return Number(gone.numDeletedRows) > 0;
    });
  }

  /** Pools with their targets: one pool when both keys are given, else all. */
  private async read(db: Kysely<Database> | Transaction<Database>, lbProvider?: string, poolId?: string): Promise<DesiredPool[]> {
    const one = lbProvider !== undefined && poolId !== undefined;
    const pools = await db
      .selectFrom('lb_desired_pools')
      .selectAll()
      .$if(one, (q) => q.where('lb_provider', '=', lbProvider!).where('pool_id', '=', poolId!))
      .orderBy('lb_provider')
      .orderBy('pool_id')
      .execute();
    if (pools.length === 0) return [];
    const targets = await db
      .selectFrom('lb_desired_targets')
      .selectAll()
      .$if(one, (q) => q.where('lb_provider', '=', lbProvider!).where('pool_id', '=', poolId!))
      .orderBy('target_id')
      .execute();
    const byPool = new Map<string, DesiredTarget[]>();
    for (const t of targets) {
      const key = `${t.lb_provider}\u0000${t.pool_id}`;
      byPool.set(key, [...(byPool.get(key) ?? []), fromTargetRow(t)]);
    }
    return pools.map((p) => ({
      lbProvider: p.lb_provider,
      poolId: p.pool_id,
      targets: byPool.get(`${p.lb_provider}\u0000${p.pool_id}`) ?? [],
      generation: Number(p.generation),
      updatedAt: p.updated_at,
    }));
  }
}

function toTargetRow(lbProvider: string, poolId: string, t: DesiredTarget): LbDesiredTargetTable {
  return {
    lb_provider: lbProvider,
    pool_id: poolId,
    target_id: `${t.address}:${t.port}`,
    address: t.address,
    port: t.port,
    state: t.state,
    weight: t.weight ?? null,
  };
}

function fromTargetRow(r: LbDesiredTargetTable): DesiredTarget {
  return {
    address: r.address,
    port: Number(r.port),
    state: r.state as TargetState,
    ...(r.weight !== null && { weight: Number(r.weight) }),
  };
}

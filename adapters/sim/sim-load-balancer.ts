/** The simulated load balancer: pools and targets in `<dataDir>/sim-lb.db`, health derived from target state. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import {
  SkygateError,
  conflict,
  invalid,
  notFound,
  toSkygateError,
  type AdapterContext,
  type LbTarget,
  type LbTargetSpec,
  type LoadBalancerAdapter,
  type TargetHealth,
  type TargetState,
} from '../../src/core/index.js';
import { openDatabase } from './sim-state.js';

const TARGET_STATES: ReadonlySet<string> = new Set<TargetState>(['active', 'draining', 'maintenance']);
const MAX_WEIGHT = 256;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pools (id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS targets (
  pool_id TEXT NOT NULL REFERENCES pools (id), id TEXT NOT NULL,
  address TEXT NOT NULL, port INTEGER NOT NULL, weight INTEGER NOT NULL,
  state TEXT NOT NULL, unhealthy INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pool_id, id)
) WITHOUT ROWID;
`;

interface TargetRow {
  pool_id: string;
  id: string;
  address: string;
  port: number;
  weight: number;
  state: string;
  unhealthy: number;
}

export class SimLoadBalancerAdapter implements LoadBalancerAdapter {
  readonly type = 'sim';
  readonly extensions = {
    /** Test and drill hook: makes an active target fail (or pass) its simulated health check. */
    setTargetHealth: async (poolId: unknown, targetId: unknown, health: unknown): Promise<LbTarget> =>
      this.run(() => {
        if (health !== 'healthy' && health !== 'unhealthy') throw invalid('health', "must be 'healthy' or 'unhealthy'");
        const row = this.mustGetTarget(String(poolId), String(targetId));
        this.db
          .prepare('UPDATE targets SET unhealthy = ? WHERE pool_id = ? AND id = ?')
          .run(health === 'unhealthy' ? 1 : 0, row.pool_id, row.id);
        return toTarget({ ...row, unhealthy: health === 'unhealthy' ? 1 : 0 });
      }),
  };

  private constructor(
    readonly providerId: string,
    private readonly db: Database.Database,
  ) {}

  /** Opens (and on first use seeds) the pools; setting `pools` names them, default `["default"]`. */
  static async open(ctx: AdapterContext): Promise<SimLoadBalancerAdapter> {
    const pools = ctx.settings.pools ?? ['default'];
    if (!Array.isArray(pools) || !pools.every((p) => typeof p === 'string' && p.length > 0)) {
      throw new SkygateError(
        'invalid_input',
        `sim load balancer '${ctx.providerId}': setting pools must be a list of pool names`,
        {
          field: 'pools',
          provider: ctx.providerId,
        },
      );
    }
    mkdirSync(ctx.dataDir, { recursive: true });
    const db = openDatabase(join(ctx.dataDir, 'sim-lb.db'));
    try {
      db.exec(SCHEMA);
      const add = db.prepare('INSERT INTO pools (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING');
      db.transaction(() => {
        // Seeded only into an empty file, so pools an operator removed by hand stay removed.
        if ((db.prepare('SELECT COUNT(*) AS n FROM pools').get() as { n: number }).n > 0) return;
        for (const p of pools as string[]) add.run(p, p);
      })();
      return new SimLoadBalancerAdapter(ctx.providerId, db);
    } catch (e) {
      db.close();
      throw toSkygateError(e, ctx.providerId);
    }
  }

  async listPools(): Promise<Array<{ id: string; name: string }>> {
    return this.run(() => this.db.prepare('SELECT id, name FROM pools ORDER BY id').all() as Array<{ id: string; name: string }>);
  }

  async listTargets(poolId: string): Promise<LbTarget[]> {
    return this.run(() => {
      this.mustGetPool(poolId);
      return (this.db.prepare('SELECT * FROM targets WHERE pool_id = ? ORDER BY id').all(poolId) as TargetRow[]).map(toTarget);
    });
  }

  /**
   * Registering an already registered address:port is a no-op that updates its weight, as ELB and Octavia allow;
   * a new target starts in `target.state` (default active).
   */
  async registerTarget(poolId: string, target: LbTargetSpec): Promise<LbTarget> {
    return this.run(() => {
      const { address, port, weight, state } = target;
      checkAddress(address);
      checkPort(port);
      if (weight !== undefined) checkWeight(weight);
      if (state !== undefined && !TARGET_STATES.has(state))
        throw invalid('state', `must be one of ${[...TARGET_STATES].join(', ')}`);
      const id = `${address}:${port}`;
      return this.db.transaction(() => {
        this.mustGetPool(poolId);
        this.db
          .prepare(
            `INSERT INTO targets (pool_id, id, address, port, weight, state) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (pool_id, id) DO UPDATE SET weight = COALESCE(?, weight)`,
          )
          .run(poolId, id, address, port, weight ?? 1, state ?? 'active', weight ?? null);
        return toTarget(this.mustGetTarget(poolId, id));
      })();
    });
  }

  async setTargetWeight(poolId: string, targetId: string, weight: number): Promise<LbTarget> {
    return this.run(() => {
      checkWeight(weight);
      return this.db.transaction(() => {
        this.mustGetTarget(poolId, targetId);
        this.db.prepare('UPDATE targets SET weight = ? WHERE pool_id = ? AND id = ?').run(weight, poolId, targetId);
        return toTarget(this.mustGetTarget(poolId, targetId));
      })();
    });
  }

  /** Moves a target to another address:port, keeping its state, weight and simulated health; its id follows. */
  async setTargetAddress(poolId: string, targetId: string, to: { address: string; port: number }): Promise<LbTarget> {
    return this.run(() => {
      checkAddress(to?.address);
      checkPort(to?.port);
      const id = `${to.address}:${to.port}`;
      return this.db.transaction(() => {
        this.mustGetTarget(poolId, targetId);
        if (id !== targetId && this.db.prepare('SELECT 1 FROM targets WHERE pool_id = ? AND id = ?').get(poolId, id)) {
          throw conflict(`pool ${poolId} already holds a target at ${id}`, 'address');
        }
        this.db
          .prepare('UPDATE targets SET id = ?, address = ?, port = ? WHERE pool_id = ? AND id = ?')
          .run(id, to.address, to.port, poolId, targetId);
        return toTarget(this.mustGetTarget(poolId, id));
      })();
    });
  }

  async deregisterTarget(poolId: string, targetId: string): Promise<void> {
    return this.run(() => {
      this.mustGetTarget(poolId, targetId);
      this.db.prepare('DELETE FROM targets WHERE pool_id = ? AND id = ?').run(poolId, targetId);
    });
  }

  async setTargetState(poolId: string, targetId: string, state: TargetState): Promise<void> {
    return this.run(() => {
      if (!TARGET_STATES.has(state)) throw invalid('state', `must be one of ${[...TARGET_STATES].join(', ')}`);
      this.mustGetTarget(poolId, targetId);
      this.db.prepare('UPDATE targets SET state = ? WHERE pool_id = ? AND id = ?').run(state, poolId, targetId);
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toSkygateError(e, this.providerId);
    }
  }

  private mustGetPool(poolId: string): void {
    if (this.db.prepare('SELECT 1 FROM pools WHERE id = ?').get(poolId) === undefined)
      throw notFound('pool', String(poolId), 'poolId');
  }

  private mustGetTarget(poolId: string, targetId: string): TargetRow {
    this.mustGetPool(poolId);
    const row = this.db.prepare('SELECT * FROM targets WHERE pool_id = ? AND id = ?').get(poolId, targetId) as
      | TargetRow
      | undefined;
    if (row === undefined) throw notFound('target', String(targetId), 'targetId');
    return row;
  }
}

function checkAddress(address: unknown): void {
  if (typeof address !== 'string' || address.length === 0 || address.length > 255 || /[\s/]/.test(address)) {
    throw invalid('address', 'must be an IP address or host name');
  }
}

function checkPort(port: unknown): void {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw invalid('port', 'must be 1..65535');
}

function checkWeight(weight: unknown): void {
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
    throw invalid('weight', `must be an integer from 0 to ${MAX_WEIGHT}`);
  }
}

/** Health follows the state an operator set; only an active target runs the (simulated) health check. */
function toTarget(r: TargetRow): LbTarget {
  const state = r.state as TargetState;
  const health: TargetHealth = state === 'active' ? (r.unhealthy === 1 ? 'unhealthy' : 'healthy') : state;
  return { id: r.id, address: r.address, port: r.port, state, health, weight: r.weight };
}

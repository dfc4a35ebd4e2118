/** Third schema: the load balancer pools skygate manages and the targets each should hold (HA desired state). */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Store } from '../../core/store-port.js';

export function lbDesiredState(dialect: Store['dialect']): Migration {
  // Byte order in both dialects, as in 0001, so pools and targets list in the same order on SQLite and PostgreSQL.
  const sortable = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;

  return {
    // IF NOT EXISTS throughout: SQLite runs DDL outside a transaction, so a run cut short must be re-runnable.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('lb_desired_pools')
        .ifNotExists()
        .addColumn('lb_provider', sortable, (c) => c.notNull())
        .addColumn('pool_id', sortable, (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('lb_desired_pools_pk', ['lb_provider', 'pool_id'])
        .execute();

      await db.schema
        .createTable('lb_desired_targets')
        .ifNotExists()
        .addColumn('lb_provider', sortable, (c) => c.notNull())
        .addColumn('pool_id', sortable, (c) => c.notNull())
        .addColumn('target_id', sortable, (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('weight', 'integer')
        .addPrimaryKeyConstraint('lb_desired_targets_pk', ['lb_provider', 'pool_id', 'target_id'])
        .execute();
    },
  };
}

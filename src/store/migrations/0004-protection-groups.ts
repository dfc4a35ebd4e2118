/** Fourth schema (HA): protection groups, their replicas, and the leases with fencing tokens that say who acts. */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Store } from '../../core/store-port.js';

export function protectionGroups(dialect: Store['dialect']): Migration {
  // Byte order in both dialects, as in 0001, so listings come in the same order on SQLite and PostgreSQL.
  const sortable = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;

  return {
    // IF NOT EXISTS throughout: SQLite runs DDL outside a transaction, so a run cut short must be re-runnable.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('protection_groups')
        .ifNotExists()
        .addColumn('id', sortable, (c) => c.primaryKey())
        .addColumn('name', sortable, (c) => c.notNull().unique())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ha_replicas')
        .ifNotExists()
        .addColumn('id', sortable, (c) => c.primaryKey())
        .addColumn('group_id', sortable, (c) => c.notNull())
        .addColumn('member', sortable, (c) => c.notNull())
        .addColumn('site', sortable, (c) => c.notNull())
        .addColumn('data_at', sortable, (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('ha_replicas_by_group')
        .ifNotExists()
        .on('ha_replicas')
        .columns(['group_id', 'site', 'member', 'data_at'])
        .execute();

      await db.schema
        .createTable('ha_leases')
        .ifNotExists()
        .addColumn('name', sortable, (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('token', 'integer', (c) => c.notNull())
        // Milliseconds since the epoch, so expiry compares as a number in both dialects.
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}

/** First schema: inventory cache with tags, sync states, operations, idempotency keys, events and API tokens. */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Store } from '../../core/store-port.js';

export function initial(dialect: Store['dialect']): Migration {
  // PostgreSQL orders text by the database locale; "C" orders by bytes as SQLite does, so keyset
  // cursors and ISO timestamps sort identically in both and whatever the server's locale is.
  const sortable = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;

  return {
    // IF NOT EXISTS throughout: SQLite runs DDL outside a transaction, so a run cut short must be re-runnable.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('inventory')
        .ifNotExists()
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', sortable, (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text')
        .addColumn('observed_at', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('inventory_pk', ['kind', 'id'])
        .execute();
      await db.schema
        .createIndex('inventory_provider_idx')
        .ifNotExists()
        .on('inventory')
        .columns(['kind', 'provider', 'id'])
        .execute();
      await db.schema.createIndex('inventory_state_idx').ifNotExists().on('inventory').columns(['kind', 'state', 'id']).execute();
      await db.schema.createIndex('inventory_name_idx').ifNotExists().on('inventory').columns(['kind', 'name']).execute();

      await db.schema
        .createTable('inventory_tags')
        .ifNotExists()
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', sortable, (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('inventory_tags_pk', ['kind', 'id', 'key'])
        .execute();

      await db.schema
        .createTable('inventory_refreshes')
        .ifNotExists()
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('observed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('inventory_refreshes_pk', ['provider', 'kind'])
        .execute();

      await db.schema
        .createTable('sync_states')
        .ifNotExists()
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('observed_at', 'text')
        .addColumn('attempted_at', 'text', (c) => c.notNull())
        .addColumn('ok', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('sync_states_pk', ['provider', 'kind'])
        .execute();

      await db.schema
        .createTable('operations')
        .ifNotExists()
        .addColumn('id', sortable, (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('provider', 'text')
        .addColumn('target', 'text')
        .addColumn('idempotency_key', 'text')
        .addColumn('created_by', 'text')
        .addColumn('created_at', sortable, (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('operations_created_idx')
        .ifNotExists()
        .on('operations')
        .columns(['created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('operations_status_idx')
        .ifNotExists()
        .on('operations')
        .columns(['status', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('idempotency')
        .ifNotExists()
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('operation_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_pk', ['principal', 'key'])
        .execute();

      await db.schema
        .createTable('events')
        .ifNotExists()
        // AUTOINCREMENT (not bare rowid) so a seq is never reused after the newest events are deleted.
        .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_tokens')
        .ifNotExists()
        .addColumn('id', sortable, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', sortable, (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
    },
  };
}

/** Second schema: access keys (EC2 SigV4), id aliases of other dialects, key pairs and instance attributes. */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Store } from '../../core/store-port.js';

export function ec2(dialect: Store['dialect']): Migration {
  // Byte order in both dialects, as in 0001, so listings sort the same on SQLite and PostgreSQL.
  const sortable = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;

  return {
    // IF NOT EXISTS throughout: SQLite runs DDL outside a transaction, so a run cut short must be re-runnable.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('access_keys')
        .ifNotExists()
        .addColumn('id', sortable, (c) => c.primaryKey())
        .addColumn('token_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', sortable, (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('access_keys_token_idx').ifNotExists().on('access_keys').columns(['token_id']).execute();

      await db.schema
        .createTable('id_aliases')
        .ifNotExists()
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('id_aliases_pk', ['namespace', 'alias'])
        .execute();

      await db.schema
        .createTable('key_pairs')
        .ifNotExists()
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('name', sortable, (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('key_type', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('key_pairs_pk', ['provider', 'name'])
        .execute();

      await db.schema
        .createTable('instance_attributes')
        .ifNotExists()
        .addColumn('instance_id', sortable, (c) => c.primaryKey())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}

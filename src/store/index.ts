/** Opens the durable store: SQLite in the data directory by default, PostgreSQL when a database URL is given. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { KyselyStore, type StoreLog } from './kysely-store.js';
import type { Database } from './schema.js';
import type { Store } from '../core/store-port.js';

export type { StoreLog } from './kysely-store.js';

export interface OpenStoreOptions {
  /** Where the SQLite file `skygate.db` lives; unused with PostgreSQL. */
  dataDir: string;
  /** `postgres://…`: use PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  log?: StoreLog;
}

/** Opens the store and brings its schema up to date. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const store =
    opts.databaseUrl === undefined ? await openSqlite(opts.dataDir, opts.log) : openPostgres(opts.databaseUrl, opts.log);
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

async function openSqlite(dataDir: string, log?: StoreLog): Promise<KyselyStore> {
  await mkdir(dataDir, { recursive: true });
  const database = new SqliteDatabase(join(dataDir, 'skygate.db'));
  // WAL lets readers (CLI, a second gateway process) proceed while the gateway writes; NORMAL
  // syncs at checkpoints only, which in WAL mode can lose the last commits on power loss but never corrupts.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  return new KyselyStore(new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), 'sqlite', log);
}

function openPostgres(connectionString: string, log?: StoreLog): KyselyStore {
  const pool = new pg.Pool({ connectionString });
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (err) => log?.error({ err }, 'idle PostgreSQL connection failed'));
  return new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres', log);
}

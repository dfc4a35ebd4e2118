/** Opens the durable store: SQLite in the data directory by default, PostgreSQL when a database URL is given. */
import { chmod, mkdir, open } from 'node:fs/promises';
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

/**
 * Makes `dir` (and its parents) and leaves it readable by this user alone (0700), even when it existed: the
 * data directory holds the database, the secret key and the bootstrap admin token.
 */
export async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

async function openSqlite(dataDir: string, log?: StoreLog): Promise<KyselyStore> {
  await privateDir(dataDir);
  const file = join(dataDir, 'skygate.db');
  // The database holds operation inputs (user data) and sealed secrets: 0600, made so before SQLite opens it,
  // since SQLite gives the -wal and -shm files it creates the database file's mode.
  await (await open(file, 'a', 0o600)).close();
  await chmod(file, 0o600);
  const database = new SqliteDatabase(file);
  // WAL lets readers (CLI, a second gateway process) proceed while the gateway writes; NORMAL
  // syncs at checkpoints only, which in WAL mode can lose the last commits on power loss but never corrupts.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  // Files an older version left with the default mode.
  for (const suffix of ['-wal', '-shm']) {
    await chmod(`${file}${suffix}`, 0o600).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  return new KyselyStore(new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), 'sqlite', log);
}

function openPostgres(connectionString: string, log?: StoreLog): KyselyStore {
  const pool = new pg.Pool({ connectionString });
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (err) => log?.error({ err }, 'idle PostgreSQL connection failed'));
  return new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres', log);
}

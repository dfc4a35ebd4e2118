/** The sim's persistence: one better-sqlite3 file per provider, rows keyed by native id, transitions stored lazily. */
import Database from 'better-sqlite3';

export interface InstanceRow {
  id: string;
  client_token: string;
  name: string;
  state: string;
  target_state: string | null;
  due_at: number | null;
  flavor_id: string;
  image_id: string;
  zone: string;
  private_ip: string;
  key_name: string | null;
  user_data: string | null;
  tags: string;
  created_at: string;
  gone_at: number | null;
  /** The application the instance serves (`kv`), from its image's `sim:workload` tag; null for a plain instance. */
  workload: string | null;
  /** The instance's own copy of its image's disk, made only for workload instances. */
  disk_file: string | null;
  /** The created network the instance is on (see sim-networks.ts); null: the default network. */
  network_id: string | null;
}

export interface ImageRow {
  id: string;
  client_token: string | null;
  name: string;
  state: string;
  target_state: string | null;
  due_at: number | null;
  size_bytes: number;
  disk_format: string;
  min_disk_gib: number;
  os: string | null;
  source_instance_id: string | null;
  file: string;
  tags: string;
  created_at: string;
}

export interface VolumeRow {
  id: string;
  client_token: string;
  name: string;
  state: string;
  target_state: string | null;
  due_at: number | null;
  size_gib: number;
  zone: string;
  attached_to: string | null;
  device: string | null;
  snapshot_id: string | null;
  tags: string;
  created_at: string;
  gone_at: number | null;
}

export interface SnapshotRow {
  id: string;
  client_token: string;
  name: string;
  state: string;
  target_state: string | null;
  due_at: number | null;
  volume_id: string;
  size_gib: number;
  tags: string;
  created_at: string;
}

export interface Tables {
  instances: InstanceRow;
  images: ImageRow;
  volumes: VolumeRow;
  snapshots: SnapshotRow;
}
export type Table = keyof Tables;

/** The part of a row that says where it is and where it is heading. */
export interface Transition {
  state: string;
  target_state: string | null;
  due_at: number | null;
}

/** Tables whose deleted rows linger (terminated instances, deleting volumes) until `gone_at`. */
const LINGERING: ReadonlySet<Table> = new Set<Table>(['instances', 'volumes']);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS instances (
  id TEXT PRIMARY KEY, client_token TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  state TEXT NOT NULL, target_state TEXT, due_at INTEGER,
  flavor_id TEXT NOT NULL, image_id TEXT NOT NULL, zone TEXT NOT NULL, private_ip TEXT NOT NULL,
  key_name TEXT, user_data TEXT, tags TEXT NOT NULL, created_at TEXT NOT NULL, gone_at INTEGER,
  workload TEXT, disk_file TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS instances_gone ON instances (gone_at) WHERE gone_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY, client_token TEXT UNIQUE, name TEXT NOT NULL,
  state TEXT NOT NULL, target_state TEXT, due_at INTEGER,
  size_bytes INTEGER NOT NULL, disk_format TEXT NOT NULL, min_disk_gib INTEGER NOT NULL, os TEXT,
  source_instance_id TEXT, file TEXT NOT NULL, tags TEXT NOT NULL, created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS volumes (
  id TEXT PRIMARY KEY, client_token TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  state TEXT NOT NULL, target_state TEXT, due_at INTEGER,
  size_gib INTEGER NOT NULL, zone TEXT NOT NULL, attached_to TEXT, device TEXT, snapshot_id TEXT,
  tags TEXT NOT NULL, created_at TEXT NOT NULL, gone_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS volumes_gone ON volumes (gone_at) WHERE gone_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS volumes_attached ON volumes (attached_to) WHERE attached_to IS NOT NULL;
CREATE TABLE IF NOT EXISTS snapshots (
  id TEXT PRIMARY KEY, client_token TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  state TEXT NOT NULL, target_state TEXT, due_at INTEGER,
  volume_id TEXT NOT NULL, size_gib INTEGER NOT NULL, tags TEXT NOT NULL, created_at TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Columns added after the first release: a sim.db written before them gains them on open. */
const ADDED_COLUMNS: Array<[Table, string, string]> = [
  ['instances', 'workload', 'TEXT'],
  ['instances', 'disk_file', 'TEXT'],
  ['instances', 'network_id', 'TEXT'],
  // The change sequence number of a row's last write (see `changes`); null for rows written before it existed.
  ['instances', 'rev', 'INTEGER'],
  ['images', 'rev', 'INTEGER'],
  ['volumes', 'rev', 'INTEGER'],
  ['snapshots', 'rev', 'INTEGER'],
];

/** Indexes over added columns, created once those columns exist. */
const LATER_INDEXES = `
CREATE INDEX IF NOT EXISTS instances_private_ip ON instances (private_ip);
CREATE INDEX IF NOT EXISTS instances_workload ON instances (id) WHERE workload IS NOT NULL;
CREATE INDEX IF NOT EXISTS instances_network ON instances (network_id) WHERE network_id IS NOT NULL;
${(['instances', 'images', 'volumes', 'snapshots'] as const)
  .map(
    (t) =>
      `CREATE INDEX IF NOT EXISTS ${t}_rev ON ${t} (rev) WHERE rev IS NOT NULL;\n` +
      `CREATE INDEX IF NOT EXISTS ${t}_due ON ${t} (due_at) WHERE due_at IS NOT NULL;`,
  )
  .join('\n')}
CREATE TABLE IF NOT EXISTS tombstones (tbl TEXT NOT NULL, id TEXT NOT NULL, rev INTEGER NOT NULL, PRIMARY KEY (tbl, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tombstones_rev ON tombstones (tbl, rev);
`;

/** Tombstones older than this many writes are dropped; a reader whose token is older lists everything again. */
const TOMBSTONE_SPAN = 100_000;

/** A point in a provider's history: the last change sequence number seen, and the time it was read at. */
export interface ChangePoint {
  rev: number;
  at: number;
}

/** What changed in a table between a ChangePoint and now: rows to show again, and ids no longer listed. */
export interface TableChanges<R> {
  rows: R[];
  gone: string[];
}

/** Opens a sim database the way every sim file wants it: WAL, NORMAL sync, patient with a second opener. */
export function openDatabase(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode can lose the last commits on power loss but never corrupts: right for a simulator.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Where a row's lazily resolved transition stands at `now`. */
export function effectiveState(row: Transition, now: number): string {
  return row.target_state !== null && row.due_at !== null && row.due_at <= now ? row.target_state : row.state;
}

export class SimState {
  private readonly db: Database.Database;
  // Statements are built from internal table and column names only, so caching by SQL text is safe.
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string) {
    this.db = openDatabase(file);
    this.db.exec(SCHEMA);
    this.tx(() => {
      for (const [table, column, type] of ADDED_COLUMNS) {
        const columns = this.db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
        if (!columns.some((c) => c.name === column)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
      }
    });
    this.db.exec(LATER_INDEXES);
  }

  /** Runs `fn` in one IMMEDIATE transaction, so a read-check-write cannot interleave with another writer. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  get<T extends Table>(table: T, id: string, now: number): Tables[T] | undefined {
    const row = this.stmt(`SELECT * FROM ${table} WHERE id = ?`).get(id) as Tables[T] | undefined;
    return row !== undefined && !isGone(row, now) ? row : undefined;
  }

  /** The row a client token created, if it is still visible; a gone row releases its token. */
  byToken<T extends Table>(table: T, token: string, now: number): Tables[T] | undefined {
    const row = this.stmt(`SELECT * FROM ${table} WHERE client_token = ?`).get(token) as Tables[T] | undefined;
    if (row === undefined) return undefined;
    if (!isGone(row, now)) return row;
    this.remove(table, row.id);
    return undefined;
  }

  /** Keyset page: rows with id > `after`, in id order; fetches one extra to know whether more follow. */
  page<T extends Table>(table: T, after: string, limit: number, now: number): { rows: Tables[T][]; more: boolean } {
    const rows = (
      LINGERING.has(table)
        ? this.stmt(`SELECT * FROM ${table} WHERE id > ? AND (gone_at IS NULL OR gone_at > ?) ORDER BY id LIMIT ?`).all(
            after,
            now,
            limit + 1,
          )
        : this.stmt(`SELECT * FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`).all(after, limit + 1)
    ) as Tables[T][];
    const more = rows.length > limit;
    if (more) rows.pop();
    return { rows, more };
  }

  insert<T extends Table>(table: T, row: Tables[T]): void {
    this.stamped(() => {
      const stamped = { ...row, rev: this.nextRev() };
      const cols = Object.keys(stamped);
      this.stmt(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(stamped);
    });
  }

  update<T extends Table>(table: T, id: string, patch: Partial<Tables[T]>): void {
    this.stamped(() => {
      const stamped = { ...patch, rev: this.nextRev() };
      const cols = Object.keys(stamped).sort();
      this.stmt(`UPDATE ${table} SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...stamped, id });
    });
  }

  remove(table: Table, id: string): void {
    this.stamped(() => {
      this.stmt('INSERT OR REPLACE INTO tombstones (tbl, id, rev) VALUES (?, ?, ?)').run(table, id, this.nextRev());
      this.stmt(`DELETE FROM ${table} WHERE id = ?`).run(id);
    });
  }

  /**
   * Runs a write and its change number in one transaction (the caller's, if it has one), so that a reader in another
   * process never sees the number without the write it stands for.
   */
  private stamped(fn: () => void): void {
    if (this.db.inTransaction) fn();
    else this.tx(fn);
  }

  /** Where the table's history stands now: a starting point for `changes`. */
  changePoint(now: number): ChangePoint {
    return { rev: this.currentRev(), at: now };
  }

  /**
   * What changed in `table` from `since` to `now`, read in one transaction: rows written since (their rev), rows
   * whose lazy transition fell due or whose linger time ended in between (no write marks those), and rows removed
   * (tombstones). Undefined when it cannot tell (tombstones that old are dropped) or when more than `limit` rows
   * changed: the caller then lists everything. Rows of every writer count, another process's included.
   */
  changes<T extends Table>(
    table: T,
    since: ChangePoint,
    now: number,
    limit: number,
  ): { changes: TableChanges<Tables[T]>; point: ChangePoint } | undefined {
    return this.db
      .transaction(() => {
        if (since.rev < (this.getMeta<number>('tombstone_floor') ?? 0)) return undefined;
        const point = this.changePoint(now);
        const byId = new Map<string, Tables[T]>();
        const add = (rows: unknown[]): boolean => {
          for (const r of rows as Tables[T][]) byId.set(r.id, r);
          return byId.size <= limit;
        };
        if (!add(this.stmt(`SELECT * FROM ${table} WHERE rev > ? LIMIT ?`).all(since.rev, limit + 1))) return undefined;
        if (!add(this.stmt(`SELECT * FROM ${table} WHERE due_at > ? AND due_at <= ? LIMIT ?`).all(since.at, now, limit + 1)))
          return undefined;
        if (
          LINGERING.has(table) &&
          !add(this.stmt(`SELECT * FROM ${table} WHERE gone_at > ? AND gone_at <= ? LIMIT ?`).all(since.at, now, limit + 1))
        )
          return undefined;
        const removed = this.stmt('SELECT id FROM tombstones WHERE tbl = ? AND rev > ? LIMIT ?').all(
          table,
          since.rev,
          limit + 1,
        ) as Array<{ id: string }>;
        if (byId.size + removed.length > limit) return undefined;
        const rows: Tables[T][] = [];
        const gone = removed.map((r) => r.id);
        for (const row of byId.values()) isGone(row, now) ? gone.push(row.id) : rows.push(row);
        return { changes: { rows, gone }, point };
      })
      .deferred();
  }

  /** Volumes whose attachment points at `instanceId` (including finished detaches; callers check the state). */
  volumesOf(instanceId: string): VolumeRow[] {
    return this.stmt('SELECT * FROM volumes WHERE attached_to = ?').all(instanceId) as VolumeRow[];
  }

  /** True while an instance row that is not yet forgotten holds `ip` (a terminated one keeps it until it is purged). */
  addressHeld(ip: string, now: number): boolean {
    return (
      this.stmt('SELECT 1 FROM instances WHERE private_ip = ? AND (gone_at IS NULL OR gone_at > ?) LIMIT 1').get(ip, now) !==
      undefined
    );
  }

  /** The addresses instances not yet forgotten hold on created network `networkId` (a terminated one keeps its own until purged). */
  addressesOn(networkId: string, now: number): Set<string> {
    const rows = this.stmt('SELECT private_ip FROM instances WHERE network_id = ? AND (gone_at IS NULL OR gone_at > ?)').all(
      networkId,
      now,
    ) as Array<{ private_ip: string }>;
    return new Set(rows.map((r) => r.private_ip));
  }

  /** An instance on created network `networkId` that is not being deleted (no `gone_at` yet), if any. */
  liveInstanceOn(networkId: string): string | undefined {
    const row = this.stmt('SELECT id FROM instances WHERE network_id = ? AND gone_at IS NULL LIMIT 1').get(networkId) as
      | { id: string }
      | undefined;
    return row?.id;
  }

  /** Every instance that runs a workload and is not forgotten yet; a partial index keeps this cheap among plain ones. */
  workloadInstances(now: number): InstanceRow[] {
    return this.stmt('SELECT * FROM instances WHERE workload IS NOT NULL AND (gone_at IS NULL OR gone_at > ?) ORDER BY id').all(
      now,
    ) as InstanceRow[];
  }

  /** Forgets rows whose linger time has passed; cheap because only lingering rows are in the partial indexes. */
  purge(now: number): void {
    this.stamped(() => this.purgeNow(now));
  }

  private purgeNow(now: number): void {
    const rev = this.nextRev();
    for (const table of LINGERING) {
      this.stmt(`INSERT OR REPLACE INTO tombstones (tbl, id, rev) SELECT '${table}', id, ? FROM ${table} WHERE gone_at <= ?`).run(
        rev,
        now,
      );
      this.stmt(`DELETE FROM ${table} WHERE gone_at <= ?`).run(now);
    }
    // Tombstones are kept for readers that are at most TOMBSTONE_SPAN writes behind; older readers list everything.
    const floor = rev - TOMBSTONE_SPAN;
    if (floor > (this.getMeta<number>('tombstone_floor') ?? 0)) {
      this.stmt('DELETE FROM tombstones WHERE rev < ?').run(floor);
      this.setMeta('tombstone_floor', floor);
    }
  }

  /** Live instances per flavor and live volume totals, for rebuilding quota usage on open. */
  usage(): { instancesByFlavor: Array<{ flavor_id: string; n: number }>; volumes: number; volumeGiB: number } {
    const instancesByFlavor = this.stmt(
      `SELECT flavor_id, COUNT(*) AS n FROM instances WHERE state NOT IN ('terminating', 'terminated') GROUP BY flavor_id`,
    ).all() as Array<{ flavor_id: string; n: number }>;
    const vols = this.stmt(
      `SELECT COUNT(*) AS n, COALESCE(SUM(size_gib), 0) AS gib FROM volumes WHERE state NOT IN ('deleting', 'deleted')`,
    ).get() as { n: number; gib: number };
    return { instancesByFlavor, volumes: vols.n, volumeGiB: vols.gib };
  }

  getMeta<T>(key: string): T | undefined {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  setMeta(key: string, value: unknown): void {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
      key,
      JSON.stringify(value),
    );
  }

  /** Atomically hands out the next value of a persistent counter, starting at 0. */
  nextCounter(key: string): number {
    const row = this.stmt(
      `INSERT INTO meta (key, value) VALUES (?, '0') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value`,
    ).get(key) as { value: string | number };
    return Number(row.value);
  }

  /** The change sequence number of the last write, 0 before any. */
  private currentRev(): number {
    const row = this.stmt("SELECT value FROM meta WHERE key = 'rev'").get() as { value: string | number } | undefined;
    return row === undefined ? 0 : Number(row.value);
  }

  /** The next change sequence number, handed out inside the writer's own statement order (so in commit order). */
  private nextRev(): number {
    const row = this.stmt(
      `INSERT INTO meta (key, value) VALUES ('rev', 1) ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value`,
    ).get() as { value: string | number };
    return Number(row.value);
  }

  ping(): void {
    this.stmt('SELECT 1').get();
  }

  close(): void {
    this.db.close();
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}

function isGone(row: object, now: number): boolean {
  const goneAt = (row as { gone_at?: number | null }).gone_at;
  return goneAt !== undefined && goneAt !== null && goneAt <= now;
}

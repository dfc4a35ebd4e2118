/** The fencing check every HA write makes in its own transaction: the lease must still hold the writer's token. */
import type { Transaction } from 'kysely';
import { conflict } from '../core/errors.js';
import type { Fence, Store } from '../core/store-port.js';
import type { Database } from './schema.js';

export async function checkFence(trx: Transaction<Database>, dialect: Store['dialect'], fence: Fence | undefined): Promise<void> {
  if (fence === undefined) return;
  // FOR SHARE on PostgreSQL: a takeover (which updates the row) waits for this write to commit, or this write waits
  // for the takeover and then sees the new token; SQLite serialises writers anyway.
  const row = await trx
    .selectFrom('ha_leases')
    .select('token')
    .where('name', '=', fence.lease)
    .$if(dialect === 'postgres', (q) => q.forShare())
    .executeTakeFirst();
  const current = row === undefined ? undefined : Number(row.token);
  if (current !== fence.token) {
    throw conflict(
      `fencing token ${fence.token} of lease ${fence.lease} is stale (the lease is at ${current ?? 'none'}): another controller took over`,
    );
  }
}

import { HOUR_SECONDS, STATS_KEPT_HOURS } from './webhook-stats.js';
import type { StoreContext } from './context.js';
import { dequeue } from './queue.js';
import { IDEMPOTENCY_TTL_MS } from './idempotency.js';

/** Tables whose history ages out, and the column that dates each row (Unix seconds). */
const HISTORY = [
  ['attempts', 'started_at'],
  ['deliveries', 'created_at'],
  ['events', 'created_at'],
] as const;
type HistoryTable = (typeof HISTORY)[number][0];

/**
 * Retention (PROTOCOL_RETENTION). Rows are deleted in small batches, each its own short
 * transaction, so the purge never holds the write lock (SQLite) or many row locks (PostgreSQL)
 * for long: deliveries and API writes slip in between batches.
 *
 * A batch looks at the oldest `limit` rows by `seq` (the primary key, so no index on the date is
 * needed) and deletes those older than the cutoff. Rows are dated when they are inserted, so
 * the old rows are a prefix of `seq` order and the scan stops at the first batch with none.
 */
export function retentionStore(ctx: StoreContext) {
  const purgeBatch = async (table: HistoryTable, column: string, cutoff: number, limit: number): Promise<number> => {
    const db = ctx.db as any; // one code path for three tables of different row types
    const rows: Array<{ seq: number; at: number }> = await db.selectFrom(table).select(['seq', `${column} as at`]).orderBy('seq', 'asc').limit(limit).execute();
    const old = rows.filter((r) => r.at < cutoff).map((r) => r.seq);
    if (old.length === 0) return 0;
    await ctx.db.transaction().execute(async (tx) => {
      // A delivery still pending that old leaves the queue with it.
      if (table === 'deliveries') await dequeue(tx, old);
      await (tx as any).deleteFrom(table).where('seq', 'in', old).execute();
    });
    return old.length;
  };

  return {
    /**
     * One round: at most one batch per table, plus the small bookkeeping tables. Returns the
     * history rows it deleted; call again until it returns 0.
     */
    async purge(retentionSeconds: number, limit = 500): Promise<{ deleted: number; byTable: Record<HistoryTable, number> }> {
      const cutoff = ctx.now() - retentionSeconds;
      const byTable = { attempts: 0, deliveries: 0, events: 0 };
      for (const [table, column] of HISTORY) byTable[table] = await purgeBatch(table, column, cutoff, limit);
      const nowMs = ctx.now() * 1000;
      await ctx.db.deleteFrom('idempotency_keys').where('created_at', '<', nowMs - IDEMPOTENCY_TTL_MS).execute();
      await ctx.db.deleteFrom('rate_limits').where('second', '<', ctx.now() - 60).execute();
      await ctx.db.deleteFrom('sessions').where('expires_at', '<', ctx.now()).execute();
      await ctx.db.deleteFrom('webhook_stats').where('hour', '<', Math.floor(ctx.now() / HOUR_SECONDS) - STATS_KEPT_HOURS).execute();
      return { deleted: byTable.attempts + byTable.deliveries + byTable.events, byTable };
    },
  };
}

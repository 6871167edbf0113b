import { sql, type Kysely } from 'kysely';
import type { Tables } from './schema.js';
import { compiledBatch } from './compiled.js';

/**
 * A webhook's health (the share of its deliveries finished in the last 24 h that succeeded) from
 * per-webhook, per-hour counters, written in the transaction that finishes the deliveries.
 * Counting the deliveries themselves read the webhook's whole history on every list of
 * webhooks (10 webhooks × 100,000 deliveries: ~230 ms a page on SQLite); the counters are at
 * most 24 rows a webhook.
 */
export const HOUR_SECONDS = 3600;
/** Counters older than this are purged (retention.ts); health reads the last 24 hours. */
export const STATS_KEPT_HOURS = 48;

export interface Finished {
  accountId: string;
  webhookId: string;
  succeeded: number;
  failed: number;
}

/** One upsert per batch of results: building it afresh each time cost more than the rest of `record`'s statements. */
const addCounts = compiledBatch(
  [
    ['account_id', 'text'],
    ['webhook_id', 'text'],
    ['hour', 'bigint'],
    ['succeeded', 'integer'],
    ['failed', 'integer'],
  ],
  ({ rows, columns }) =>
    sql`insert into webhook_stats (${columns}) ${rows}
      on conflict (account_id, webhook_id, hour) do update set succeeded = webhook_stats.succeeded + excluded.succeeded, failed = webhook_stats.failed + excluded.failed`,
  64,
);

/** Adds finished deliveries to their webhooks' counters for the hour of `nowSeconds`; one statement. */
export async function countFinished(db: Kysely<Tables>, finished: Finished[], nowSeconds: number): Promise<void> {
  const counted = finished.filter((f) => f.succeeded + f.failed > 0);
  if (counted.length === 0) return;
  const hour = Math.floor(nowSeconds / HOUR_SECONDS);
  await addCounts(db, counted.map((f) => [f.accountId, f.webhookId, hour, f.succeeded, f.failed]));
}

/** Per webhook of `ids`: its deliveries finished in the last 24 hours (to the hour), succeeded and failed. */
export async function finishedLastDay(db: Kysely<Tables>, account: string, ids: string[], nowSeconds: number): Promise<Map<string, { succeeded: number; failed: number }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('webhook_stats')
    .select((eb) => ['webhook_id', eb.fn.sum<number>('succeeded').as('succeeded'), eb.fn.sum<number>('failed').as('failed')])
    .where('account_id', '=', account)
    .where('webhook_id', 'in', ids)
    .where('hour', '>', Math.floor(nowSeconds / HOUR_SECONDS) - 24)
    .groupBy('webhook_id')
    .execute();
  return new Map(rows.map((r) => [r.webhook_id, { succeeded: Number(r.succeeded), failed: Number(r.failed) }]));
}

/** Fills the counters from the deliveries finished since `sinceSeconds` (migration 006, for installations that have some). */
export async function countFinishedSince(db: Kysely<any>, sinceSeconds: number): Promise<void> {
  const hour = sql`updated_at / ${sql.lit(HOUR_SECONDS)}`; // a literal: PostgreSQL groups by the same expression only if it is written the same
  await sql`insert into webhook_stats (account_id, webhook_id, hour, succeeded, failed)
    select account_id, webhook_id, ${hour}, sum(case when status = 'succeeded' then 1 else 0 end), sum(case when status = 'failed' then 1 else 0 end)
    from deliveries where status <> 'pending' and updated_at >= ${sinceSeconds}
    group by account_id, webhook_id, ${hour}`.execute(db);
}

import { PostgresAdapter, sql, type Kysely, type QueryCreator, type SelectQueryBuilder } from 'kysely';
import { compiledBatch } from './compiled.js';
import { status } from './status.js';
import type { Row, Tables } from './schema.js';

/**
 * Where pending deliveries wait to be claimed: with claiming (lease.ts) and wake-ups, the part of
 * the store written per database (migration 011).
 *
 * - SQLite: in `deliveries` itself. A pending row is in the due index (`due_at`, moved to the
 *   lease's end while leased) and carries its lease (`lease_owner`, `lease_expires_at`).
 * - PostgreSQL: a row per pending delivery in `delivery_queue` (`due_at`, `lease_owner`), so a
 *   lease writes only that narrow row and a result is a HOT update of the delivery's. `deliveries`
 *   holds the next attempt's time in `due_at`, and no lease.
 *
 * Every write that makes a delivery pending, finishes it or deletes it keeps the queue in step
 * through the functions here, each a no-op or the one statement SQLite needs. On PostgreSQL each
 * takes the queue row before the delivery's, as a result does, so no two wait on each other.
 */
export const separateQueue = (db: Kysely<Tables>) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * The oldest pending delivery's `seq`, as a subquery: no pending delivery of any webhook is
 * older, so a webhook's pending ones are read through its index newest first down to there, not
 * through all its history. No index holds a webhook's pending deliveries by themselves: it would
 * lose an entry in every webhook's part of it for every batch of results (migration 005). The
 * subquery reads the queue: SQLite's due index, which holds only pending deliveries, or
 * PostgreSQL's queue, keyed by the deliveries' `seq`.
 */
export const oldestPending = (db: Kysely<Tables>) =>
  separateQueue(db)
    ? db.selectFrom('delivery_queue').select((eb) => eb.fn.min('seq').as('seq'))
    : db
        .selectFrom('deliveries')
        // `seq + 0`, not `seq`: SQLite answers min(seq) by walking the table in seq order (its
        // rowid) to the first pending row, all of a healthy history (10 ms at 300,000 rows,
        // against 3 µs this way).
        .select((eb) => eb.fn.min(sql<number>`seq + 0`).as('seq'))
        .where('status', '=', status('pending'));

/**
 * PostgreSQL: these deliveries (a list, or a query of their `seq` and `webhook_id`), pending again
 * (a retry asked for, a recovery, a test), wait in the queue, due at `dueAt` (ms) and not leased.
 */
export async function enqueue(
  tx: Kysely<Tables>,
  deliveries: ReadonlyArray<{ seq: number; webhook_id: string }> | SelectQueryBuilder<Tables, 'deliveries', { seq: number; webhook_id: string }>,
  dueAt: number,
): Promise<void> {
  if (!separateQueue(tx) || (Array.isArray(deliveries) && deliveries.length === 0)) return;
  const insert = tx.insertInto('delivery_queue');
  await (
    Array.isArray(deliveries)
      ? insert.values(deliveries.map((row) => ({ seq: row.seq, webhook_id: row.webhook_id, due_at: dueAt, lease_owner: null })))
      : insert
          .columns(['seq', 'webhook_id', 'due_at', 'lease_owner'])
          .expression((deliveries as SelectQueryBuilder<Tables, 'deliveries', { seq: number; webhook_id: string }>).select([sql<number>`cast(${dueAt} as bigint)`.as('due_at'), sql<null>`cast(null as text)`.as('lease_owner')]))
  )
    // A row leased now is taken back: its attempt may still finish, but its result is not written (as on SQLite).
    .onConflict((oc) => oc.column('seq').doUpdateSet({ due_at: dueAt, lease_owner: null }))
    .execute();
}

/** PostgreSQL: the deliveries with these keys leave the queue (retention deletes them in the same transaction). */
export async function dequeue(tx: Kysely<Tables>, seqs: readonly number[]): Promise<void> {
  if (!separateQueue(tx) || seqs.length === 0) return;
  await tx.deleteFrom('delivery_queue').where('seq', 'in', seqs).execute();
}

/** A webhook's pending deliveries, through its index down to the oldest pending one (see oldestPending). */
const pendingOf = (db: QueryCreator<Tables>, oldest: ReturnType<typeof oldestPending>, account: string, webhookSeq: number) =>
  db
    .selectFrom('deliveries')
    .select('seq')
    .where('account_id', '=', account)
    .where('webhook_seq', '=', webhookSeq)
    .where('status', '=', status('pending'))
    .where('seq', '>=', oldest);

/**
 * A disabled webhook's pending deliveries fail without an attempt, leased ones too (a result still
 * on its way is then not written); how many. PostgreSQL: in one statement with their queue rows,
 * so a change committed meanwhile cannot leave a failed delivery queued; the queue rows first,
 * then the deliveries', the order a result takes them in, so the two never wait on each other.
 */
export async function failPendingOf(tx: Kysely<Tables>, account: string, webhookSeq: number, now: number): Promise<number> {
  const failed = { status: 'failed' as const, due_at: null, lease_owner: null, lease_expires_at: null, failed_at: now, updated_at: now };
  const pending = (db: QueryCreator<Tables>) => pendingOf(db, oldestPending(tx), account, webhookSeq);
  if (!separateQueue(tx)) {
    const result = await tx.updateTable('deliveries').set(failed).where('seq', 'in', pending(tx)).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
  const [row] = await tx
    .with('gone', (db) => db.deleteFrom('delivery_queue').where('seq', 'in', pending(db)).returning('seq'))
    .with('failed', (db) =>
      db
        .updateTable('deliveries')
        .set(failed)
        .where('account_id', '=', account)
        .where('seq', 'in', (eb) => eb.selectFrom('gone').select('gone.seq'))
        .returning('deliveries.seq'),
    )
    .selectFrom('failed')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .execute();
  return Number(row?.n ?? 0);
}

/** Deletes a webhook's deliveries; PostgreSQL: with their queue rows, in one statement and that order (as failPendingOf). */
export async function deleteDeliveriesOf(tx: Kysely<Tables>, account: string, webhookSeq: number): Promise<void> {
  if (!separateQueue(tx)) return void (await tx.deleteFrom('deliveries').where('account_id', '=', account).where('webhook_seq', '=', webhookSeq).execute());
  // Joined with the count of what left the queue, the deletion can start only once that is done.
  await sql`with gone as (delete from delivery_queue where seq in (${pendingOf(tx, oldestPending(tx), account, webhookSeq)}) returning seq)
    delete from deliveries using (select count(*) from gone) as done where deliveries.account_id = ${account} and deliveries.webhook_seq = ${webhookSeq}`.execute(tx);
}

/** Of these deliveries, the ones with an attempt in flight (leased): they have no next attempt scheduled. */
export async function inFlight(db: Kysely<Tables>, rows: ReadonlyArray<Pick<Row<'deliveries'>, 'seq' | 'status' | 'lease_owner'>>): Promise<Set<number>> {
  const pending = rows.filter((row) => row.status === 'pending');
  if (!separateQueue(db)) return new Set(pending.filter((row) => row.lease_owner !== null).map((row) => row.seq));
  if (pending.length === 0) return new Set();
  const seqs = pending.map((row) => row.seq);
  const leased = await db.selectFrom('delivery_queue').select('seq').where('seq', 'in', seqs).where('lease_owner', 'is not', null).execute();
  return new Set(leased.map((row) => Number(row.seq)));
}

/** When the next pending delivery falls due (ms; a leased one when its lease runs out). */
export async function nextDueAt(db: Kysely<Tables>): Promise<number | undefined> {
  const row = separateQueue(db)
    ? await db.selectFrom('delivery_queue').select('due_at').orderBy('due_at').limit(1).executeTakeFirst()
    : await db.selectFrom('deliveries').select('due_at').where('status', '=', status('pending')).orderBy('due_at').limit(1).executeTakeFirst();
  return row?.due_at === null || row?.due_at === undefined ? undefined : Number(row.due_at);
}

/** How many deliveries are due at `nowMs`, and the oldest one's due time. */
export async function dueStats(db: Kysely<Tables>, nowMs: number): Promise<{ due: number; oldest: number | undefined }> {
  const row = separateQueue(db)
    ? await db
        .selectFrom('delivery_queue')
        .select((eb) => [eb.fn.countAll<number>().as('due'), eb.fn.min('due_at').as('oldest')])
        .where('due_at', '<=', nowMs)
        .executeTakeFirst()
    : await db
        .selectFrom('deliveries')
        .select((eb) => [eb.fn.countAll<number>().as('due'), eb.fn.min('due_at').as('oldest')])
        .where('status', '=', status('pending'))
        .where('due_at', '<=', nowMs)
        .executeTakeFirst();
  return { due: Number(row?.due ?? 0), oldest: row?.oldest === null || row?.oldest === undefined ? undefined : Number(row.oldest) };
}

const RESULT_COLUMNS = [
  ['account_id', 'text'],
  ['seq', 'bigint'],
  ['status', 'text'],
  ['attempt_count', 'integer'],
  ['due_at', 'bigint'],
  ['last_attempt_at', 'bigint'],
] as const;
// Extras: 0 the time (Unix seconds), 1 the lease's owner.
const settleSqlite = compiledBatch(
  RESULT_COLUMNS,
  ({ v, extra }) =>
    sql`with ${v} update deliveries set status = v.status, attempt_count = v.attempt_count, due_at = v.due_at, lease_owner = null, lease_expires_at = null,
        last_attempt_at = v.last_attempt_at, failed_at = case when v.status = 'failed' then ${extra(0)} end, updated_at = ${extra(0)}
      from v where deliveries.account_id = v.account_id and deliveries.seq = v.seq and deliveries.lease_owner = ${extra(1)}`,
);
// No column an index of `deliveries` holds changes on a success or a retry: a HOT update.
const settlePostgres = compiledBatch(
  RESULT_COLUMNS,
  ({ v, extra }) =>
    sql`with ${v},
      done as (delete from delivery_queue q using v where q.seq = v.seq and q.lease_owner = ${extra(1)} and v.status <> 'pending' returning q.seq),
      again as (update delivery_queue q set due_at = v.due_at, lease_owner = null from v where q.seq = v.seq and q.lease_owner = ${extra(1)} and v.status = 'pending' returning q.seq)
      update deliveries set status = v.status, attempt_count = v.attempt_count, due_at = v.due_at, last_attempt_at = v.last_attempt_at,
        failed_at = case when v.status = 'failed' then cast(${extra(0)} as bigint) end, updated_at = ${extra(0)}
      from v where deliveries.account_id = v.account_id and deliveries.seq = v.seq and v.seq in (select seq from done union all select seq from again)`,
);

/**
 * Each delivery's new state after an attempt (`[account, seq, status, attempts, due_at, last_attempt_at]`),
 * only while `owner` still holds its lease: out of the queue when it finished, due again at its
 * retry's time otherwise.
 */
export function settle(tx: Kysely<Tables>, results: ReadonlyArray<readonly unknown[]>, now: number, owner: string): Promise<void> {
  return (separateQueue(tx) ? settlePostgres : settleSqlite)(tx, results, [now, owner]);
}

/** A leased delivery fails without an attempt (its webhook was disabled), if `owner` still holds it; whether it did. */
export async function failHeld(tx: Kysely<Tables>, delivery: { accountId: string; seq: number }, owner: string, now: number): Promise<boolean> {
  const failed = { status: 'failed' as const, due_at: null, failed_at: now, updated_at: now };
  const ofDelivery = tx.updateTable('deliveries').where('account_id', '=', delivery.accountId).where('seq', '=', delivery.seq);
  if (!separateQueue(tx)) {
    const result = await ofDelivery.set({ ...failed, lease_owner: null, lease_expires_at: null }).where('lease_owner', '=', owner).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
  const held = await tx.deleteFrom('delivery_queue').where('seq', '=', delivery.seq).where('lease_owner', '=', owner).executeTakeFirst();
  if (Number(held.numDeletedRows) === 0) return false;
  await ofDelivery.set(failed).execute();
  return true;
}

/** Gives a leased delivery back, due at once, if `owner` still holds it; whether it did. */
export async function release(db: Kysely<Tables>, delivery: { accountId: string; seq: number }, owner: string): Promise<boolean> {
  const result = separateQueue(db)
    ? await db.updateTable('delivery_queue').set({ lease_owner: null, due_at: Date.now() }).where('seq', '=', delivery.seq).where('lease_owner', '=', owner).executeTakeFirst()
    : await db
        .updateTable('deliveries')
        .set({ lease_owner: null, lease_expires_at: null, due_at: Date.now() })
        .where('account_id', '=', delivery.accountId)
        .where('seq', '=', delivery.seq)
        .where('lease_owner', '=', owner)
        .where('status', '=', status('pending'))
        .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

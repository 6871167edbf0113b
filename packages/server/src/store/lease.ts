import { sql } from 'kysely';
import type { Row } from './schema.js';
import { pinnedTransaction } from './pinned.js';
import { compiled, slot } from './compiled.js';
import type { Database } from './database.js';
import { status } from './status.js';
import { arrayRows, named } from './dialects/array-rows.js';

const COLUMNS = ['seq', 'id', 'account_id', 'event_id', 'event_seq', 'event_type', 'webhook_id', 'webhook_seq', 'attempt_count', 'final_attempt'] as const;
const WEBHOOK_COLUMNS = ['url', 'enabled', 'secret', 'previous_secret', 'previous_secret_expires_at'] as const;

/** A leased delivery's row, joined with its event's body and its webhook's URL and secrets. */
export type LeasedRow = Pick<Row<'deliveries'>, (typeof COLUMNS)[number]> & Pick<Row<'events'>, 'body'> & Pick<Row<'webhooks'>, (typeof WEBHOOK_COLUMNS)[number]>;

/** The leased statements' rows come as arrays (array-rows.ts), in this order. */
const leasedRow = named<LeasedRow>([...COLUMNS, 'body', ...WEBHOOK_COLUMNS]);

// A type, not an interface: it is passed as a record of slot values.
export type LeaseParams = {
  owner: string;
  /** The lease's end (ms): distinct per claim, so it names exactly this claim's rows. */
  until: number;
  now: number;
  limit: number;
  /** Webhooks the worker has no room for. */
  exclude: string[];
};

/**
 * SQLite: two statements, one shape each whatever the batch or the exclusions (those go in as a
 * JSON array), compiled once. One writer at a time, so nothing else can take the rows between them.
 */
const leaseSqlite = compiled((db) =>
  db
    .updateTable('deliveries')
    .set({ lease_owner: slot('owner'), lease_expires_at: slot('until'), due_at: slot('until') })
    .where('seq', 'in', (eb) =>
      eb
        .selectFrom('deliveries')
        .select('seq')
        .where('status', '=', status('pending'))
        .where('due_at', '<=', slot('now'))
        .where('webhook_id', 'not in', sql<string>`(select value from json_each(${slot('exclude')}))`)
        .orderBy('due_at')
        .limit(slot('limit')),
    ),
);
const leasedSqlite = compiled((db) =>
  arrayRows(
    db
      .selectFrom('deliveries')
      .innerJoin('events', (join) => join.onRef('events.account_id', '=', 'deliveries.account_id').onRef('events.seq', '=', 'deliveries.event_seq'))
      .innerJoin('webhooks', (join) => join.onRef('webhooks.account_id', '=', 'deliveries.account_id').onRef('webhooks.seq', '=', 'deliveries.webhook_seq'))
      .select([...COLUMNS.map((c) => `deliveries.${c}` as const), 'events.body', ...WEBHOOK_COLUMNS.map((c) => `webhooks.${c}` as const)])
      .where('deliveries.status', '=', status('pending'))
      .where('deliveries.due_at', '=', slot('until'))
      .where('deliveries.lease_owner', '=', slot('owner'))
      .orderBy('deliveries.seq'),
  ),
);

/**
 * PostgreSQL: one statement (pick from the queue with SKIP LOCKED, lease, return joined), so a
 * claim is one round trip inside its transaction. The lease writes the queue's row alone
 * (migration 011).
 *
 * Each row's delivery, event and webhook are looked up on their own (`offset 0` keeps the planner
 * from merging the lookups into one join), by primary key. Merged, the tables' `account_id`s
 * became one equivalence, and the planner could find a webhook by the event's account alone,
 * reading every webhook of the account per claimed delivery.
 */
export const leasePostgres = compiled((db) =>
  arrayRows({
    compile: () =>
      sql`with due as (
          select seq from delivery_queue
          where due_at <= ${slot('now')} and webhook_id <> all(cast(${slot('exclude')} as text[]))
          order by due_at limit ${slot('limit')} for update skip locked
        ), leased as (
          update delivery_queue set lease_owner = ${slot('owner')}, due_at = ${slot('until')}
          from due where delivery_queue.seq = due.seq
          returning delivery_queue.seq
        )
        select ${sql.join(COLUMNS.map((c) => sql.ref(`delivery.${c}`)))}, event.body, ${sql.join(WEBHOOK_COLUMNS.map((c) => sql.ref(`webhook.${c}`)))}
        from leased
        cross join lateral (select ${sql.join(COLUMNS.map((c) => sql.ref(c)))} from deliveries where deliveries.seq = leased.seq offset 0) delivery
        cross join lateral (select body from events where events.account_id = delivery.account_id and events.seq = delivery.event_seq offset 0) event
        cross join lateral (select ${sql.join(WEBHOOK_COLUMNS.map((c) => sql.ref(c)))} from webhooks where webhooks.account_id = delivery.account_id and webhooks.seq = delivery.webhook_seq offset 0) webhook
        order by leased.seq`.compile(db),
  }),
);

/**
 * Leases up to `limit` due deliveries, oldest due first, and returns them ready to send.
 *
 * The lease also moves the queue's `due_at` to its expiry (a visibility timeout): a held delivery
 * is not due, so claims scan only claimable rows however many are in flight, and a crashed
 * worker's deliveries fall due again exactly when their leases run out.
 *
 * On PostgreSQL the pick must walk the queue's due index in order and stop at `limit`, and each
 * row's delivery, event and webhook are found by primary key (migration 008), whatever the
 * statistics say (pinned.ts).
 */
export async function leaseDue(database: Database, params: LeaseParams): Promise<LeasedRow[]> {
  const { db } = database;
  if (database.dialect === 'sqlite') {
    const leased = await leaseSqlite(db, { ...params, exclude: JSON.stringify(params.exclude) });
    if (Number(leased.numAffectedRows) === 0) return [];
    return (await leasedSqlite(db, params)).rows.map(leasedRow);
  }
  return pinnedTransaction(db, async (tx) => (await leasePostgres(tx, params)).rows.map(leasedRow));
}

/**
 * The ends of an owner's leases (ms), each at a distinct millisecond, which then names exactly its
 * rows: two claims by one owner within a millisecond would otherwise share one, and a hand-over
 * (hand-over.ts) would share a claim's, whose SELECT on SQLite would then return the hand-over's
 * rows too. One per store, shared by claims and hand-overs.
 */
export class LeaseEnds {
  private readonly last = new Map<string, { end: number; before: number }>();

  next(owner: string, leaseMs: number): number {
    const before = this.last.get(owner)?.end ?? 0;
    const end = Math.max(Date.now() + leaseMs, before + 1);
    this.last.set(owner, { end, before });
    return end;
  }

  /** That end leased nothing after all (a claim that found nothing): the owner's next lease is as long as asked. */
  unused(owner: string, end: number): void {
    const last = this.last.get(owner);
    if (last?.end === end) this.last.set(owner, { end: last.before, before: last.before });
  }
}

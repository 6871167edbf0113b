import { sql, type Kysely } from 'kysely';
import type { Row, Tables } from './schema.js';
import { compiled, compiledPerCount, slot } from './compiled.js';
import { newId } from './ids.js';
import { separateQueue } from './queue.js';
import type { Reservation } from './hand-over.js';
import { signingSecrets } from './webhooks.js';

/** Rows per INSERT: far below SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 500;

/**
 * Joined on the webhook's key alone (migration 012): with an equality on `account_id` in the join,
 * PostgreSQL without statistics read every webhook of the account once per subscription, even
 * with scans priced out (pinned.ts).
 */
const subscribedBuilder = (db: Kysely<Tables>) =>
  db
    .selectFrom('webhook_events')
    .innerJoin('webhooks', 'webhooks.seq', 'webhook_events.webhook_seq')
    .where('webhook_events.account_id', '=', slot('account'))
    .where('webhook_events.type', '=', slot('type'))
    .where('webhooks.enabled', '=', 1);
/** Exported for the plan test (fanout.test.ts). */
export const subscribed = compiled((db) => subscribedBuilder(db).select(['webhooks.id', 'webhooks.seq']));
/** With what sending needs, when this process's worker may take the deliveries at once (hand-over.ts). */
export const subscribedToSend = compiled((db) => subscribedBuilder(db).select(['webhooks.id', 'webhooks.seq', 'webhooks.url', 'webhooks.secret', 'webhooks.previous_secret', 'webhooks.previous_secret_expires_at']));

/**
 * The values every row of a change shares come first, by position; then row i's own (its id, its
 * webhook's id and key) at `SHARED.length + 3i`. Positions, not names: a record with three keys per
 * row went into dictionary mode, and building it and looking every parameter up in it cost ~5 µs
 * per delivery on the main thread at saturation (its profile's second JavaScript line).
 */
const SHARED = ['account_id', 'event_id', 'event_seq', 'event_type', 'final_attempt', 'due_at', 'lease_owner', 'lease_expires_at', 'created_at'] as const;
const shared = (column: (typeof SHARED)[number]) => slot<never>(SHARED.indexOf(column));
/** Where row i's own value k (0: its id, 1: its webhook's id, 2: its webhook's key) goes. */
const ownAt = (i: number, k: 0 | 1 | 2) => SHARED.length + 3 * i + k;
const own = (i: number, k: 0 | 1 | 2) => slot<never>(ownAt(i, k));
/** `leased`: SQLite's lease columns from the shared values; PostgreSQL's lease is the queue row's. */
const deliveryRows = (n: number, leased = true) =>
  Array.from({ length: n }, (_, i) => ({
    id: own(i, 0),
    webhook_id: own(i, 1),
    webhook_seq: own(i, 2),
    account_id: shared('account_id'),
    event_id: shared('event_id'),
    event_seq: shared('event_seq'),
    event_type: shared('event_type'),
    status: 'pending' as const,
    attempt_count: 0,
    final_attempt: shared('final_attempt'),
    due_at: shared('due_at'),
    lease_owner: leased ? shared('lease_owner') : null,
    lease_expires_at: leased ? shared('lease_expires_at') : null,
    last_attempt_at: null,
    created_at: shared('created_at'),
    updated_at: shared('created_at'),
  }));
const insertDeliveries = compiledPerCount(64, (db, n) => db.insertInto('deliveries').values(deliveryRows(n)));
/** Deliveries handed over are sent by key (`seq`), as claimed ones are. */
const insertLeased = compiledPerCount(64, (db, n) => db.insertInto('deliveries').values(deliveryRows(n)).returning(['id', 'seq']));
/**
 * PostgreSQL: the deliveries and their queue rows (due at the shared `due_at`, leased to the
 * shared `lease_owner` if any) in one statement, so a change waits on the server no more often
 * than without the queue (pipelining.test.ts). Each row's key comes back for a hand-over.
 */
const insertQueued = compiledPerCount(64, (db, n) =>
  db
    .with('d', (qc) => qc.insertInto('deliveries').values(deliveryRows(n, false)).returning(['id', 'seq', 'webhook_id']))
    .with('q', (qc) =>
      qc
        .insertInto('delivery_queue')
        .columns(['seq', 'webhook_id', 'due_at', 'lease_owner'])
        .expression(
          qc
            .selectFrom('d')
            .select(['d.seq', 'd.webhook_id', sql<number>`cast(${shared('due_at')} as bigint)`.as('due_at'), sql<string>`cast(${shared('lease_owner')} as text)`.as('lease_owner')]),
        ),
    )
    .selectFrom('d')
    .select(['d.id', 'd.seq']),
);
/** A chunk of deliveries with their place in the queue (queue.ts). */
const insertPending = (tx: Kysely<Tables>, n: number, values: unknown[]) => (separateQueue(tx) ? insertQueued : insertDeliveries)(tx, n, values);
/** The same, leased to this process's worker, with their keys for the hand-over. */
const insertHandedOver = (tx: Kysely<Tables>, n: number, values: unknown[]) => (separateQueue(tx) ? insertQueued : insertLeased)(tx, n, values);

/**
 * One delivery per enabled webhook subscribed to the event's type, in the event's transaction.
 * Two statements whatever the number of webhooks (one indexed SELECT, one multi-row INSERT per
 * 500); the payload is not copied: deliveries point at the event's body.
 */
export async function fanOut(
  tx: Kysely<Tables>,
  /** `eventSeq` is still on its way (the event's INSERT): the subscribed webhooks are looked up beside it. */
  event: { account: string; eventId: string; eventSeq: Promise<number>; type: string; body: string; now: number; finalAttempt: number },
  /** This process's worker, if it takes deliveries as they are written (hand-over.ts). */
  reservation?: Reservation,
): Promise<number> {
  const [{ rows: webhooks }, eventSeq] = await Promise.all([(reservation ? subscribedToSend : subscribed)(tx, { account: event.account, type: event.type }), event.eventSeq]);
  const common: Record<(typeof SHARED)[number], unknown> = {
    account_id: event.account,
    event_id: event.eventId,
    event_seq: eventSeq,
    event_type: event.type,
    final_attempt: event.finalAttempt,
    due_at: event.now * 1000,
    lease_owner: null,
    lease_expires_at: null,
    created_at: event.now,
  };
  const taken = reservation?.reserve(webhooks.map((webhook) => webhook.id));
  const pending = taken ? webhooks.filter((_, i) => !taken[i]) : webhooks;
  for (let i = 0; i < pending.length; i += CHUNK) {
    const chunk = pending.slice(i, i + CHUNK);
    await insertPending(tx, chunk.length, rowValues(common, chunk));
  }
  // Only with a reservation, whose webhooks came with what sending needs.
  const leased = (taken ? webhooks.filter((_, i) => taken[i]) : []) as Array<Pick<Row<'webhooks'>, 'id' | 'seq' | 'url' | 'secret' | 'previous_secret' | 'previous_secret_expires_at'>>;
  if (leased.length > 0) {
    const lease = { ...common, due_at: reservation!.until, lease_owner: reservation!.owner, lease_expires_at: reservation!.until };
    const nowSeconds = Math.floor(Date.now() / 1000);
    for (let i = 0; i < leased.length; i += CHUNK) {
      const chunk = leased.slice(i, i + CHUNK);
      const values = rowValues(lease, chunk);
      const { rows } = await insertHandedOver(tx, chunk.length, values);
      const seqs = new Map(rows.map((row) => [row.id, row.seq]));
      chunk.forEach((webhook, j) => {
        const id = values[ownAt(j, 0)] as string;
        reservation!.deliveries.push({
          id,
          seq: seqs.get(id)!,
          webhookSeq: webhook.seq,
          accountId: event.account,
          eventId: event.eventId,
          eventType: event.type,
          webhookId: webhook.id,
          url: webhook.url,
          body: event.body,
          attempt: 1,
          finalAttempt: event.finalAttempt,
          webhookEnabled: true,
          ...signingSecrets(webhook, nowSeconds),
        });
      });
    }
  }
  return webhooks.length;
}

/** The values every row shares, in SHARED's order, then each row's own: a new id, and its webhook's id and key. */
function rowValues(common: Record<(typeof SHARED)[number], unknown>, webhooks: ReadonlyArray<{ id: string; seq: number }>): unknown[] {
  const values = SHARED.map((column) => common[column]);
  for (const webhook of webhooks) values.push(newId(), webhook.id, webhook.seq);
  return values;
}

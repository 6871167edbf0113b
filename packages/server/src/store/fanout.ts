import { sql, type Kysely } from 'kysely';
import type { Row, Tables } from './schema.js';
import { compiled, compiledPerCount, slot } from './compiled.js';
import { newId } from './ids.js';
import { separateQueue } from './queue.js';
import { arrayParameter } from './dialects/pg-arrays.js';
import type { Reservation } from './hand-over.js';
import { signingSecrets, type WebhookKey } from './webhooks.js';

/** Rows per SQLite INSERT: far below its bound-parameter limit. */
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
 * The values every row of a change shares come first, by position; then the rows' own (an id, the
 * webhook's id and key): on SQLite row i's at `SHARED.length + 3i`, on PostgreSQL as three arrays.
 * Positions, not names: a record with three keys per row went into dictionary mode, and building
 * it and looking every parameter up in it cost ~5 µs per delivery on the main thread at
 * saturation (its profile's second JavaScript line).
 */
const SHARED = ['account_id', 'event_id', 'event_seq', 'event_type', 'final_attempt', 'due_at', 'lease_owner', 'lease_expires_at', 'created_at'] as const;
const shared = (column: (typeof SHARED)[number]) => slot<never>(SHARED.indexOf(column));
/** SQLite: where row i's own value k (0: its id, 1: its webhook's id, 2: its webhook's key) goes. */
const own = (i: number, k: 0 | 1 | 2) => slot<never>(SHARED.length + 3 * i + k);
/** SQLite: `n` rows' values, each row's own from its slots and the lease's columns from the shared ones. */
const deliveryRows = (n: number) =>
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
    lease_owner: shared('lease_owner'),
    lease_expires_at: shared('lease_expires_at'),
    last_attempt_at: null,
    created_at: shared('created_at'),
    updated_at: shared('created_at'),
  }));
const insertDeliveries = compiledPerCount(64, (db, n) => db.insertInto('deliveries').values(deliveryRows(n)));
/** Deliveries handed over are sent by key (`seq`), as claimed ones are. */
const insertLeased = compiledPerCount(64, (db, n) => db.insertInto('deliveries').values(deliveryRows(n)).returning(['id', 'seq']));

/**
 * PostgreSQL: every delivery of a change and its queue row (due at the shared `due_at`, leased
 * to the shared `lease_owner` if any) in one statement, whatever the number of webhooks: the
 * rows' own values come as three arrays after the shared ones (`unnest`), so the statement is
 * prepared once, and a change waits on the server no more often than without the queue
 * (pipelining.test.ts). Each row's key comes back for a hand-over. With a `values` row per
 * delivery, a change for 10,000 webhooks was 20 statements of 8,000 parameters, each built by
 * Kysely and planned by the server: 244–309 ms a change against 175–235 now (the store alone,
 * three alternating runs, session 34).
 */
const insertQueued = compiled((db) => {
  const typed = (column: (typeof SHARED)[number], type: string) => sql`cast(${shared(column)} as ${sql.raw(type)})`;
  const ownArray = (k: 0 | 1 | 2, type: string) => sql`cast(${slot<never>(SHARED.length + k)} as ${sql.raw(type)}[])`;
  return db
    .with('d', (qc) =>
      qc
        .insertInto('deliveries')
        .columns(['id', 'webhook_id', 'webhook_seq', 'account_id', 'event_id', 'event_seq', 'event_type', 'status', 'attempt_count', 'final_attempt', 'due_at', 'created_at', 'updated_at'])
        .expression(
          sql`select r.id, r.webhook_id, r.webhook_seq, ${typed('account_id', 'text')}, ${typed('event_id', 'text')}, ${typed('event_seq', 'bigint')},
            ${typed('event_type', 'text')}, ${sql.lit('pending')}, 0, ${typed('final_attempt', 'integer')}, ${typed('due_at', 'bigint')},
            ${typed('created_at', 'bigint')}, ${typed('created_at', 'bigint')}
            from unnest(${ownArray(0, 'text')}, ${ownArray(1, 'text')}, ${ownArray(2, 'bigint')}) as r(id, webhook_id, webhook_seq)`,
        )
        .returning(['id', 'seq', 'webhook_id']),
    )
    .with('q', (qc) =>
      qc
        .insertInto('delivery_queue')
        .columns(['seq', 'webhook_id', 'due_at', 'lease_owner'])
        .expression(qc.selectFrom('d').select(['d.seq', 'd.webhook_id', typed('due_at', 'bigint').as('due_at'), typed('lease_owner', 'text').as('lease_owner')])),
    )
    .selectFrom('d')
    .select(['d.id', 'd.seq']);
});

/**
 * A delivery for each of `webhooks`, with `common`'s shared values: PostgreSQL in one statement,
 * SQLite in multi-row INSERTs of at most CHUNK rows. Their ids in `webhooks`' order, and with
 * `keys` (a hand-over) each one's `seq` by id.
 */
async function insertAll(tx: Kysely<Tables>, common: Record<(typeof SHARED)[number], unknown>, webhooks: readonly WebhookKey[], keys: boolean) {
  const ids = webhooks.map(() => newId());
  const seqs = new Map<string, number>();
  if (separateQueue(tx)) {
    const values = [...SHARED.map((column) => common[column]), arrayParameter(ids), arrayParameter(webhooks.map((w) => w.id)), arrayParameter(webhooks.map((w) => w.seq))];
    const { rows } = await insertQueued(tx, values);
    if (keys) for (const row of rows) seqs.set(row.id, row.seq);
    return { ids, seqs };
  }
  for (let i = 0; i < webhooks.length; i += CHUNK) {
    const n = Math.min(CHUNK, webhooks.length - i);
    const values: unknown[] = SHARED.map((column) => common[column]);
    for (let j = i; j < i + n; j++) values.push(ids[j], webhooks[j]!.id, webhooks[j]!.seq);
    if (!keys) await insertDeliveries(tx, n, values);
    else for (const row of (await insertLeased(tx, n, values)).rows) seqs.set(row.id, row.seq);
  }
  return { ids, seqs };
}

/**
 * One delivery per enabled webhook subscribed to the event's type, in the event's transaction.
 * Two statements whatever the number of webhooks (one indexed SELECT, one INSERT: on SQLite one per
 * 500 rows), and a second INSERT when this process's worker takes some of them but not all (their
 * rows leased); the payload is not copied: deliveries point at the event's body.
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
  if (pending.length > 0) await insertAll(tx, common, pending, false);
  // Only with a reservation, whose webhooks came with what sending needs.
  const leased = (taken ? webhooks.filter((_, i) => taken[i]) : []) as Array<Pick<Row<'webhooks'>, 'id' | 'seq' | 'url' | 'secret' | 'previous_secret' | 'previous_secret_expires_at'>>;
  if (leased.length > 0) {
    const lease = { ...common, due_at: reservation!.until, lease_owner: reservation!.owner, lease_expires_at: reservation!.until };
    const nowSeconds = Math.floor(Date.now() / 1000);
    const { ids, seqs } = await insertAll(tx, lease, leased, true);
    leased.forEach((webhook, j) => {
      const id = ids[j]!;
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
  return webhooks.length;
}

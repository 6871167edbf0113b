import type { Transaction } from 'kysely';
import type { Tables } from './schema.js';
import { compiled, compiledPerCount, slot } from './compiled.js';
import { newId } from './ids.js';

/** Rows per INSERT: far below SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 500;

const subscribed = compiled((db) =>
  db
    .selectFrom('webhook_events')
    .innerJoin('webhooks', (join) => join.onRef('webhooks.account_id', '=', 'webhook_events.account_id').onRef('webhooks.id', '=', 'webhook_events.webhook_id'))
    .select('webhooks.id')
    .where('webhook_events.account_id', '=', slot(0))
    .where('webhook_events.type', '=', slot(1))
    .where('webhooks.enabled', '=', 1),
);

/** Per row: its id and webhook (slots 2i, 2i+1); then what every row shares. */
const SHARED = ['account_id', 'event_id', 'event_type', 'final_attempt', 'due_at', 'created_at'] as const;
const insertDeliveries = compiledPerCount(64, (db, n) =>
  db.insertInto('deliveries').values(
    Array.from({ length: n }, (_, i) => ({
      id: slot(2 * i),
      webhook_id: slot(2 * i + 1),
      account_id: slot(2 * n),
      event_id: slot(2 * n + 1),
      event_type: slot(2 * n + 2),
      status: 'pending' as const,
      attempt_count: 0,
      final_attempt: slot(2 * n + 3),
      due_at: slot(2 * n + 4),
      lease_owner: null,
      lease_expires_at: null,
      last_attempt_at: null,
      created_at: slot(2 * n + 5),
      updated_at: slot(2 * n + 5),
    })),
  ),
);

/**
 * One delivery per enabled webhook subscribed to the event's type, in the event's transaction.
 * Two statements whatever the number of webhooks (one indexed SELECT, one multi-row INSERT per
 * 500); the payload is not copied: deliveries point at the event's body.
 */
export async function fanOut(
  tx: Transaction<Tables>,
  event: { account: string; eventId: string; type: string; now: number; finalAttempt: number },
): Promise<number> {
  const { rows: webhooks } = await subscribed(tx, event.account, event.type);
  const shared: Record<(typeof SHARED)[number], unknown> = {
    account_id: event.account,
    event_id: event.eventId,
    event_type: event.type,
    final_attempt: event.finalAttempt,
    due_at: event.now * 1000,
    created_at: event.now,
  };
  for (let i = 0; i < webhooks.length; i += CHUNK) {
    const chunk = webhooks.slice(i, i + CHUNK);
    await insertDeliveries(tx, chunk.length, ...chunk.flatMap((webhook) => [newId(), webhook.id]), ...SHARED.map((column) => shared[column]));
  }
  return webhooks.length;
}

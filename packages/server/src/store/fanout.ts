import type { Transaction } from 'kysely';
import type { Tables } from './schema.js';
import { newId } from './ids.js';

/** Rows per INSERT: far below SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 500;

/**
 * One delivery per enabled webhook subscribed to the event's type, in the event's transaction.
 * Two statements whatever the number of webhooks (one indexed SELECT, one multi-row INSERT per
 * 500); the payload is not copied: deliveries point at the event's body.
 */
export async function fanOut(
  tx: Transaction<Tables>,
  event: { account: string; eventId: string; type: string; now: number; finalAttempt: number },
): Promise<number> {
  const webhooks = await tx
    .selectFrom('webhook_events')
    .innerJoin('webhooks', (join) => join.onRef('webhooks.account_id', '=', 'webhook_events.account_id').onRef('webhooks.id', '=', 'webhook_events.webhook_id'))
    .select('webhooks.id')
    .where('webhook_events.account_id', '=', event.account)
    .where('webhook_events.type', '=', event.type)
    .where('webhooks.enabled', '=', 1)
    .execute();
  const dueAt = event.now * 1000;
  for (let i = 0; i < webhooks.length; i += CHUNK) {
    await tx
      .insertInto('deliveries')
      .values(
        webhooks.slice(i, i + CHUNK).map((webhook) => ({
          id: newId(),
          account_id: event.account,
          event_id: event.eventId,
          event_type: event.type,
          webhook_id: webhook.id,
          status: 'pending' as const,
          attempt_count: 0,
          final_attempt: event.finalAttempt,
          due_at: dueAt,
          lease_owner: null,
          lease_expires_at: null,
          last_attempt_at: null,
          created_at: event.now,
          updated_at: event.now,
        })),
      )
      .execute();
  }
  return webhooks.length;
}

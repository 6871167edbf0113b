import type { Kysely } from 'kysely';
import { EVENT_TYPES, type Delivery, type DeliveryAttempt, type DeliveryDetail, type DeliveryListParams, type EventType, type Page, type WebhookEvent } from '@protocol/sdk';
import { ProtocolError, notFound } from '../errors.js';
import { madeDue, type StoreContext } from './context.js';
import { newId } from './ids.js';
import { paginate } from './pagination.js';
import { enqueue, inFlight, oldestPending } from './queue.js';
import { status } from './status.js';
import type { DeliveryStatus, Row, Tables } from './schema.js';
import type { WebhookKey } from './webhooks.js';

/** `leased`: an attempt is under way, so none is scheduled (queue.ts: inFlight). */
export function toDelivery(row: Omit<Row<'deliveries'>, 'failed_at'>, leased: boolean): Delivery {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event_type: row.event_type as EventType,
    status: row.status,
    attempt_count: row.attempt_count,
    next_attempt_at: row.status === 'pending' && row.due_at !== null && !leased ? Math.ceil(row.due_at / 1000) : null,
    last_attempt_at: row.last_attempt_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function toAttempt(row: Row<'attempts'>): DeliveryAttempt {
  return {
    id: row.id,
    attempt: row.attempt,
    started_at: Math.floor(row.started_at / 1000),
    duration_ms: row.duration_ms,
    status_code: row.status_code,
    request_headers: JSON.parse(row.request_headers),
    response_headers: row.response_headers === null ? null : JSON.parse(row.response_headers),
    response_body: row.response_body,
    error: row.error,
    error_stage: row.error_stage as DeliveryAttempt['error_stage'],
  };
}

/**
 * A webhook's deliveries, of one status if given: failed ones through their own index (migrations
 * 005 and 011), the others newest first through the webhook's; pending ones no older than the oldest
 * pending delivery, so a healthy webhook's history is not read to find none. Both indexes hold
 * the webhook's key, not its id (migration 010); the account still filters.
 */
export function webhookDeliveries(db: Kysely<Tables>, account: string, webhook: WebhookKey, only?: DeliveryStatus) {
  const query = db.selectFrom('deliveries').selectAll().where('account_id', '=', account).where('webhook_seq', '=', webhook.seq);
  if (only === undefined) return query;
  const ofStatus = query.where('status', '=', status(only));
  if (only === 'failed') return ofStatus.where('failed_at', 'is not', null); // the failed index's condition (migration 011)
  return only === 'pending' ? ofStatus.where('seq', '>=', oldestPending(db)) : ofStatus;
}

/** The API's side of deliveries: read them, and ask for more attempts. */
export function deliveriesStore(ctx: StoreContext) {
  const requireWebhook = async (account: string, id: string) => {
    const row = await ctx.db.selectFrom('webhooks').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('webhook', id);
    return row;
  };
  const wake = () => madeDue(ctx, 1);
  const requireEnabled = (webhook: Row<'webhooks'>) => {
    if (webhook.enabled !== 1) throw new ProtocolError('conflict', `Webhook '${webhook.id}' is disabled; enable it first`);
  };

  return {
    async list(account: string, webhookId: string, params: DeliveryListParams): Promise<Page<Delivery>> {
      const webhook = await requireWebhook(account, webhookId);
      const page = await paginate(ctx.db, 'deliveries', account, params, webhookDeliveries(ctx.db, account, webhook, params.status));
      const leased = await inFlight(ctx.db, page.data);
      return { has_more: page.has_more, data: page.data.map((row) => toDelivery(row, leased.has(row.seq))) };
    },

    /** The delivery with the request it sends and every attempt, oldest first. */
    async get(account: string, id: string): Promise<DeliveryDetail> {
      const row = await ctx.db
        .selectFrom('deliveries')
        .innerJoin('events', (join) => join.onRef('events.account_id', '=', 'deliveries.account_id').onRef('events.id', '=', 'deliveries.event_id'))
        .innerJoin('webhooks', (join) => join.onRef('webhooks.account_id', '=', 'deliveries.account_id').onRef('webhooks.id', '=', 'deliveries.webhook_id'))
        .selectAll('deliveries')
        .select(['events.body', 'webhooks.url'])
        .where('deliveries.account_id', '=', account)
        .where('deliveries.id', '=', id)
        .executeTakeFirst();
      if (!row) throw notFound('delivery', id);
      const attempts = await ctx.db.selectFrom('attempts').selectAll().where('account_id', '=', account).where('delivery_id', '=', id).orderBy('seq', 'asc').execute();
      const { body, url, ...delivery } = row;
      const leased = await inFlight(ctx.db, [delivery]);
      return { ...toDelivery(delivery, leased.has(delivery.seq)), request: { url, body }, attempts: attempts.map(toAttempt) };
    },

    /** One more attempt now, whatever the delivery's state; if it fails, the delivery is failed again. */
    async retry(account: string, id: string): Promise<Delivery> {
      const row = await ctx.db.selectFrom('deliveries').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('delivery', id);
      requireEnabled(await requireWebhook(account, row.webhook_id));
      const now = ctx.now();
      const changes = { status: 'pending' as const, final_attempt: row.attempt_count + 1, due_at: Date.now(), lease_owner: null, lease_expires_at: null, failed_at: null, updated_at: now };
      await ctx.db.transaction().execute(async (tx) => {
        // Due now and no longer leased: an attempt in flight may still finish, but is not written.
        // The queue row first, then the delivery's, in the order a result takes them (queue.ts).
        await enqueue(tx, [row], changes.due_at);
        await tx.updateTable('deliveries').set(changes).where('account_id', '=', account).where('id', '=', id).execute();
      });
      wake();
      return toDelivery({ ...row, ...changes }, false);
    },

    /** Re-queues the webhook's failed deliveries created at or after `since`, one more attempt each. */
    async recover(account: string, webhookId: string, since: number): Promise<{ recovered: number }> {
      const webhook = await requireWebhook(account, webhookId);
      requireEnabled(webhook);
      const dueAt = Date.now();
      const recovered = await ctx.db.transaction().execute(async (tx) => {
        const failed = webhookDeliveries(tx, account, webhook, 'failed').where('created_at', '>=', since);
        await enqueue(tx, failed.clearSelect().select(['seq', 'webhook_id']), dueAt);
        const result = await tx
          .updateTable('deliveries')
          .set((eb) => ({ status: 'pending', final_attempt: eb('attempt_count', '+', 1), due_at: dueAt, failed_at: null, updated_at: ctx.now() }))
          .where('seq', 'in', failed.clearSelect().select('seq'))
          .executeTakeFirst();
        return Number(result.numUpdatedRows);
      });
      if (recovered > 0) wake();
      return { recovered };
    },

    /**
     * Sends an example event of any type to this webhook alone, now. The example is stored as a
     * test event (delivered like any other, kept out of the events log).
     */
    async sendTest(account: string, webhookId: string, example: (type: EventType, id: string) => WebhookEvent, type?: EventType): Promise<Delivery> {
      const webhook = await requireWebhook(account, webhookId);
      requireEnabled(webhook);
      const subscribed = await ctx.db.selectFrom('webhook_events').select('type').where('account_id', '=', account).where('webhook_seq', '=', webhook.seq).execute();
      const eventType = type ?? EVENT_TYPES.find((t) => subscribed.some((s) => s.type === t))!;
      const now = ctx.now();
      const eventId = newId();
      const row = {
        id: newId(),
        account_id: account,
        event_id: eventId,
        event_seq: 0, // set below, once the event has its seq
        event_type: eventType,
        webhook_id: webhookId,
        webhook_seq: webhook.seq,
        status: 'pending' as const,
        attempt_count: 0,
        final_attempt: ctx.attemptsPerDelivery,
        due_at: Date.now(),
        lease_owner: null,
        lease_expires_at: null,
        last_attempt_at: null,
        created_at: now,
        updated_at: now,
      };
      await ctx.db.transaction().execute(async (tx) => {
        const event = await tx
          .insertInto('events')
          .values({ id: eventId, account_id: account, type: eventType, body: JSON.stringify(example(eventType, eventId)), created_at: now, test: 1 })
          .returning('seq')
          .executeTakeFirstOrThrow();
        row.event_seq = event.seq;
        const { seq } = await tx.insertInto('deliveries').values(row).returning('seq').executeTakeFirstOrThrow();
        await enqueue(tx, [{ seq, webhook_id: webhookId }], row.due_at);
      });
      wake();
      return toDelivery({ ...row, seq: 0 }, false);
    },
  };
}

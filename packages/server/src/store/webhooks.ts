import { randomBytes } from 'node:crypto';
import { EVENT_TYPES, type EventType, type ListParams, type Page, type Webhook, type WebhookCreateParams, type WebhookUpdateParams, type WebhookWithSecret } from '@protocol/sdk';
import { notFound } from '../errors.js';
import type { StoreContext } from './context.js';
import { newId } from './ids.js';
import { paginate } from './pagination.js';
import { deleteDeliveriesOf, failPendingOf } from './queue.js';
import { countFinished, finishedLastDay } from './webhook-stats.js';
import type { Kysely } from 'kysely';
import type { Row, Tables } from './schema.js';

/** How long the old secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_SECONDS = 24 * 3600;

/** A webhook's id and its key (`seq`), by which its deliveries are indexed (migration 010). */
export type WebhookKey = Pick<Row<'webhooks'>, 'id' | 'seq'>;

/**
 * A webhook's attempts, found through its deliveries (`deliveries_webhook`, then
 * `attempts_delivery` per delivery). Attempts have no index by webhook, and by `webhook_id` the
 * delete read every attempt of the account, holding SQLite's write lock all the while.
 */
export const deleteAttemptsOf = (db: Kysely<Tables>, account: string, webhook: WebhookKey) =>
  db
    .deleteFrom('attempts')
    .where('account_id', '=', account)
    .where('delivery_id', 'in', (eb) => eb.selectFrom('deliveries').select('id').where('account_id', '=', account).where('webhook_seq', '=', webhook.seq));

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The share of deliveries finished in the last 24 h that succeeded, and the latest attempt. */
export interface WebhookHealth {
  success_rate: number | null;
  last_attempt_at: number | null;
}

function toWebhook(row: Row<'webhooks'>, events: string[], health: WebhookHealth): Webhook {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    events: events as EventType[],
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason,
    health,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The secrets that sign right now, newest first, and the one for `x-protocol-signature`. */
export function signingSecrets(row: Pick<Row<'webhooks'>, 'secret' | 'previous_secret' | 'previous_secret_expires_at'>, nowSeconds: number) {
  const overlapping = row.previous_secret && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > nowSeconds;
  return overlapping
    ? { secrets: [row.secret, row.previous_secret!], protocolSecret: row.previous_secret! }
    : { secrets: [row.secret], protocolSecret: row.secret };
}

export function webhooksStore(ctx: StoreContext) {
  const find = (account: string, id: string) => ctx.db.selectFrom('webhooks').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
  const require = async (account: string, id: string) => {
    const row = await find(account, id);
    if (!row) throw notFound('webhook', id);
    return row;
  };
  /** The subscribed types of each webhook, by its key. */
  const subscriptions = async (account: string, seqs: number[]) => {
    if (seqs.length === 0) return new Map<number, string[]>();
    const rows = await ctx.db.selectFrom('webhook_events').select(['webhook_seq', 'type']).where('account_id', '=', account).where('webhook_seq', 'in', seqs).execute();
    const byWebhook = new Map<number, string[]>();
    for (const row of rows) byWebhook.set(row.webhook_seq, [...(byWebhook.get(row.webhook_seq) ?? []), row.type]);
    return byWebhook;
  };
  const subscribe = (tx: StoreContext['db'], account: string, webhookSeq: number, types: string[]) =>
    tx.insertInto('webhook_events').values([...new Set(types)].map((type) => ({ account_id: account, type, webhook_seq: webhookSeq }))).execute();
  const unsubscribe = (tx: StoreContext['db'], account: string, webhookSeq: number) => tx.deleteFrom('webhook_events').where('account_id', '=', account).where('webhook_seq', '=', webhookSeq).execute();
  /** One query for every webhook of a page, over their hourly counters (webhook-stats.ts). */
  const health = async (account: string, rows: Row<'webhooks'>[]) => {
    const finished = await finishedLastDay(ctx.db, account, rows.map((r) => r.id), ctx.now());
    return new Map(
      rows.map((row) => {
        const { succeeded, failed } = finished.get(row.id) ?? { succeeded: 0, failed: 0 };
        return [row.id, { success_rate: succeeded + failed ? succeeded / (succeeded + failed) : null, last_attempt_at: row.last_attempt_at ?? null }];
      }),
    );
  };
  const withEvents = async (account: string, rows: Row<'webhooks'>[]) => {
    const [events, healthById] = await Promise.all([subscriptions(account, rows.map((r) => r.seq)), health(account, rows)]);
    // Listed in the canonical order of the 15 types, whatever order they were given in.
    const ordered = (seq: number) => (events.get(seq) ?? []).sort((a, b) => EVENT_TYPES.indexOf(a as EventType) - EVENT_TYPES.indexOf(b as EventType));
    return rows.map((row) => toWebhook(row, ordered(row.seq), healthById.get(row.id)!));
  };

  return {
    async list(account: string, params: ListParams): Promise<Page<Webhook>> {
      const page = await paginate(ctx.db, 'webhooks', account, params, ctx.db.selectFrom('webhooks').selectAll().where('account_id', '=', account));
      return { has_more: page.has_more, data: await withEvents(account, page.data) };
    },

    async get(account: string, id: string): Promise<Webhook> {
      return (await withEvents(account, [await require(account, id)]))[0]!;
    },

    /** The only response that carries the secret, besides `secret()`. */
    async create(account: string, input: WebhookCreateParams): Promise<WebhookWithSecret> {
      const now = ctx.now();
      const row = {
        id: newId(),
        account_id: account,
        name: input.name,
        url: input.url,
        enabled: 1,
        disabled_reason: null,
        secret: newSecret(),
        previous_secret: null,
        previous_secret_expires_at: null,
        failing_since: null,
        last_attempt_at: null,
        created_at: now,
        updated_at: now,
      };
      const seq = await ctx.db.transaction().execute(async (tx) => {
        const { seq } = await tx.insertInto('webhooks').values(row).returning('seq').executeTakeFirstOrThrow();
        await subscribe(tx, account, seq, input.events);
        return seq;
      });
      const [webhook] = await withEvents(account, [{ ...row, seq }]);
      return { ...webhook!, secret: row.secret };
    },

    /**
     * `enabled: true` turns a disabled webhook back on and forgets its failure streak; disabling
     * it (here or by the worker) fails its pending deliveries, which `recover` can re-queue.
     */
    async update(account: string, id: string, input: WebhookUpdateParams): Promise<Webhook> {
      const before = await require(account, id);
      const now = ctx.now();
      const changes = {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.url !== undefined && { url: input.url }),
        ...(input.enabled === true && before.enabled === 0 && { enabled: 1, disabled_reason: null, failing_since: null }),
        ...(input.enabled === false && before.enabled === 1 && { enabled: 0, disabled_reason: 'Disabled through the API' }),
        updated_at: now,
      };
      await ctx.db.transaction().execute(async (tx) => {
        await tx.updateTable('webhooks').set(changes).where('account_id', '=', account).where('id', '=', id).execute();
        if (input.events !== undefined) {
          await unsubscribe(tx, account, before.seq);
          await subscribe(tx, account, before.seq, input.events);
        }
        if (changes.enabled === 0) await failPending(tx, account, before, now);
      });
      return (await withEvents(account, [{ ...before, ...changes }]))[0]!;
    },

    /** Deletes the webhook with its deliveries and their attempts. */
    async delete(account: string, id: string): Promise<void> {
      const webhook = await require(account, id);
      await ctx.db.transaction().execute(async (tx) => {
        await deleteAttemptsOf(tx, account, webhook).execute();
        await deleteDeliveriesOf(tx, account, webhook.seq);
        await unsubscribe(tx, account, webhook.seq);
        await tx.deleteFrom('webhook_stats').where('account_id', '=', account).where('webhook_id', '=', id).execute();
        await tx.deleteFrom('webhooks').where('account_id', '=', account).where('id', '=', id).execute();
      });
    },

    async secret(account: string, id: string): Promise<{ secret: string }> {
      return { secret: (await require(account, id)).secret };
    },

    /** A new secret; the old one keeps signing for 24 h (SPEC §6 rotation). */
    async rotateSecret(account: string, id: string): Promise<{ secret: string; previous_secret_expires_at: number }> {
      const before = await require(account, id);
      const now = ctx.now();
      const secret = newSecret();
      const expires = now + ROTATION_OVERLAP_SECONDS;
      await ctx.db
        .updateTable('webhooks')
        .set({ secret, previous_secret: before.secret, previous_secret_expires_at: expires, updated_at: now })
        .where('account_id', '=', account)
        .where('id', '=', id)
        .execute();
      return { secret, previous_secret_expires_at: expires };
    },
  };
}

/** A disabled webhook's pending deliveries fail at once (no attempt); `recover` brings them back. */
export async function failPending(tx: StoreContext['db'], account: string, webhook: WebhookKey, now: number): Promise<void> {
  const failed = await failPendingOf(tx, account, webhook.seq, now);
  await countFinished(tx, [{ accountId: account, webhookId: webhook.id, succeeded: 0, failed }], now);
}

import { sql } from 'kysely';
import type { AttemptErrorStage } from '@protocol/sdk';
import { madeDue, type StoreContext } from './context.js';
import { compiledBatch } from './compiled.js';
import { leaseDue } from './lease.js';
import { workerTransaction } from './pinned.js';
import * as queue from './queue.js';
import { newId } from './ids.js';
import { failPending, signingSecrets } from './webhooks.js';
import { countFinished, type Finished } from './webhook-stats.js';

/** A delivery a worker holds under lease, with everything needed to send it. */
export interface ClaimedDelivery {
  id: string;
  /** The delivery's and its webhook's primary keys: results are written by key (migration 008). */
  seq: number;
  webhookSeq: number;
  accountId: string;
  eventId: string;
  eventType: string;
  webhookId: string;
  url: string;
  /** The stored event body: the exact bytes of every attempt. */
  body: string;
  /** The number this attempt will have (1-based). */
  attempt: number;
  /** The attempt after which a failure is final. */
  finalAttempt: number;
  secrets: string[];
  protocolSecret: string;
  /** False when the webhook was disabled after the delivery was created. */
  webhookEnabled: boolean;
}

export interface AttemptRecord {
  delivery: ClaimedDelivery;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  /**
   * The request's headers as stored: JSON, serialized where the attempt was sent. From the sender
   * thread, a string crosses to the worker's thread for a fraction of what an object costs there.
   */
  requestHeadersJson: string;
  /** The answer's headers as stored (JSON), or null when there was no answer. */
  responseHeadersJson: string | null;
  responseBody: string | null;
  error: string | null;
  errorStage: AttemptErrorStage | null;
  /** What the policy decided. */
  outcome: { status: 'succeeded' } | { status: 'failed'; disableReason?: string } | { status: 'pending'; dueAt: number; disableReason?: string };
}

const insertAttempts = compiledBatch(
  [
    ['id', 'text'],
    ['account_id', 'text'],
    ['delivery_id', 'text'],
    ['webhook_id', 'text'],
    ['attempt', 'integer'],
    ['started_at', 'bigint'],
    ['duration_ms', 'integer'],
    ['status_code', 'integer'],
    ['request_headers', 'text'],
    ['response_headers', 'text'],
    ['response_body', 'text'],
    ['error', 'text'],
    ['error_stage', 'text'],
  ],
  ({ rows, columns }) => sql`insert into attempts (${columns}) ${rows}`,
);
const updateWebhooks = compiledBatch(
  [
    ['account_id', 'text'],
    ['seq', 'bigint'],
    ['last_attempt_at', 'bigint'],
    ['succeeded', 'integer'],
    ['first_failure', 'bigint'],
  ],
  ({ v }) =>
    sql`with ${v} update webhooks set last_attempt_at = v.last_attempt_at,
        failing_since = case when v.succeeded = 1 then null else coalesce(webhooks.failing_since, v.first_failure) end
      from v where webhooks.account_id = v.account_id and webhooks.seq = v.seq
        -- Only rows that change: most batches repeat the last second's state of busy webhooks, and
        -- an unchanged row needs no new version (PostgreSQL) nor a lock that other workers wait on.
        and (coalesce(webhooks.last_attempt_at, -1) <> v.last_attempt_at
          or (v.succeeded = 1 and webhooks.failing_since is not null)
          or (v.succeeded = 0 and webhooks.failing_since is null))`,
);

/** A batch's results per webhook: its latest attempt, its failure streak, how many deliveries finished. */
interface WebhookOutcome {
  accountId: string;
  seq: number;
  /** Any success in the batch (it ends a failure streak). */
  succeeded: boolean;
  /** The first failure's start (ms), which starts a streak if none is running. */
  firstFailure: number;
  lastAttempt: number;
  disableReason?: string;
  /** For its health; a retry to come has not finished. */
  finished: Finished;
}

/** Per webhook, sorted by id: two workers writing the same webhooks' rows (PostgreSQL) lock them in the same order, never each other's first. */
function perWebhook(records: AttemptRecord[]): Array<[string, WebhookOutcome]> {
  const webhooks = new Map<string, WebhookOutcome>();
  for (const r of records) {
    const entry = webhooks.get(r.delivery.webhookId) ?? {
      accountId: r.delivery.accountId,
      seq: r.delivery.webhookSeq,
      succeeded: false,
      firstFailure: Infinity,
      lastAttempt: 0,
      finished: { accountId: r.delivery.accountId, webhookId: r.delivery.webhookId, succeeded: 0, failed: 0 },
    };
    entry.lastAttempt = Math.max(entry.lastAttempt, r.startedAt);
    if (r.outcome.status === 'succeeded') {
      entry.succeeded = true;
      entry.finished.succeeded++;
    } else {
      entry.firstFailure = Math.min(entry.firstFailure, r.startedAt);
      if (r.outcome.status === 'failed') entry.finished.failed++;
      if (r.outcome.disableReason) entry.disableReason = r.outcome.disableReason;
    }
    webhooks.set(r.delivery.webhookId, entry);
  }
  return [...webhooks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Text as both databases can hold it: PostgreSQL's text has no NUL character, and a receiver's
 * answer may carry NUL bytes. Written as they came, one such answer failed its whole batch's
 * write on PostgreSQL, and again at every retry, so that worker recorded nothing more. (The
 * headers are JSON, where NUL is escaped.)
 */
const storable = (text: string | null) => (text !== null && text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text);

/**
 * The worker's side of deliveries: claim due ones under a lease, record attempts in batches,
 * give back what was not sent. Claims span accounts; every write after that names the account.
 */
export function claimsStore(ctx: StoreContext) {
  const { db } = ctx;
  return {
    /**
     * Leases up to `limit` due deliveries, oldest due first, skipping webhooks the worker has no
     * room for (lease.ts). On PostgreSQL `FOR UPDATE SKIP LOCKED` lets workers claim disjoint rows at once.
     */
    async claim(owner: string, options: { limit: number; leaseMs: number; exclude?: string[] }): Promise<ClaimedDelivery[]> {
      const nowMs = Date.now();
      // The end is taken before the lease runs: a hand-over committed between SQLite's UPDATE and
      // its SELECT must not share it.
      const until = ctx.leaseEnds.next(owner, options.leaseMs);
      const rows = await leaseDue(ctx.database, { owner, until, now: nowMs, limit: options.limit, exclude: options.exclude ?? [] }).catch((error) => {
        ctx.leaseEnds.unused(owner, until);
        throw error;
      });
      if (rows.length === 0) {
        ctx.leaseEnds.unused(owner, until);
        return [];
      }
      const nowSeconds = Math.floor(nowMs / 1000);
      // One string per event body: a claim holds a change's deliveries side by side, and each
      // row brings its own copy. The copies die at once instead of living until the results are
      // written, which young-generation collections pay for with every claimed delivery held.
      const bodies = new Map<number, string>();
      const body = (row: (typeof rows)[number]) => bodies.get(row.event_seq) ?? (bodies.set(row.event_seq, row.body), row.body);
      return rows.map((row) => ({
        id: row.id,
        seq: row.seq,
        webhookSeq: row.webhook_seq,
        accountId: row.account_id,
        eventId: row.event_id,
        eventType: row.event_type,
        webhookId: row.webhook_id,
        url: row.url,
        body: body(row),
        attempt: row.attempt_count + 1,
        finalAttempt: row.final_attempt,
        webhookEnabled: row.enabled === 1,
        ...signingSecrets(row, nowSeconds),
      }));
    },

    /**
     * Writes a batch of attempts in one transaction of a few statements, whatever its size: the
     * attempt rows, every delivery's new state (only while this worker still holds it), the
     * webhooks' last attempt and failure streaks; disabling only where a webhook earned it.
     */
    async record(owner: string, records: AttemptRecord[], options: { disableAfterMs: number }): Promise<{ disabled: string[] }> {
      if (records.length === 0) return { disabled: [] };
      const now = ctx.now();
      const disabled: string[] = [];
      const entries = perWebhook(records);
      await workerTransaction(ctx.database, async (tx) => {
        // Four statements that need nothing from each other's results, sent together (one round trip on PostgreSQL).
        await Promise.all([
          insertAttempts(
            tx,
            records.map((r) => [
              newId(),
              r.delivery.accountId,
              r.delivery.id,
              r.delivery.webhookId,
              r.delivery.attempt,
              r.startedAt,
              Math.round(r.durationMs),
              r.statusCode,
              r.requestHeadersJson,
              r.responseHeadersJson,
              storable(r.responseBody),
              storable(r.error),
              r.errorStage,
            ]),
          ),
          queue.settle(
            tx,
            records.map((r) => [r.delivery.accountId, r.delivery.seq, r.outcome.status, r.delivery.attempt, r.outcome.status === 'pending' ? r.outcome.dueAt : null, Math.floor(r.startedAt / 1000)]),
            now,
            owner,
          ),
          updateWebhooks(tx, entries.map(([, e]) => [e.accountId, e.seq, Math.floor(e.lastAttempt / 1000), e.succeeded ? 1 : 0, e.succeeded ? null : e.firstFailure])),
          // (A result written after its lease was lost, its delivery sent again, counts too: rare, and this is a health figure.)
          countFinished(tx, entries.map(([, e]) => e.finished), now),
        ]);

        for (const [webhookId, entry] of entries) {
          if (entry.succeeded) continue;
          const webhook = tx.updateTable('webhooks').where('account_id', '=', entry.accountId).where('id', '=', webhookId).where('enabled', '=', 1);
          const reason = entry.disableReason;
          const disable = reason
            ? webhook.set({ enabled: 0, disabled_reason: reason, updated_at: now })
            : webhook
                .set({ enabled: 0, disabled_reason: `Disabled after its deliveries failed for ${humanDuration(options.disableAfterMs)} in a row`, updated_at: now })
                .where('failing_since', '<=', Date.now() - options.disableAfterMs);
          const result = await disable.executeTakeFirst();
          if (Number(result.numUpdatedRows) > 0) {
            disabled.push(webhookId);
            await failPending(tx, entry.accountId, { id: webhookId, seq: entry.seq }, now);
          }
        }
      });
      return { disabled };
    },

    /** Fails deliveries whose webhook was disabled meanwhile, without an attempt. */
    async dropDisabled(owner: string, deliveries: ClaimedDelivery[]): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const finished: Finished[] = [];
        for (const d of deliveries) {
          const failed = await queue.failHeld(tx, d, owner, ctx.now());
          finished.push({ accountId: d.accountId, webhookId: d.webhookId, succeeded: 0, failed: failed ? 1 : 0 });
        }
        await countFinished(tx, finished, ctx.now());
      });
    },

    /**
     * Gives back leased deliveries that were not sent (shutdown, a dead sender thread), due at once
     * and announced: another worker takes them now, not at its next poll.
     */
    async release(owner: string, deliveries: ClaimedDelivery[]): Promise<void> {
      let released = 0;
      for (const d of deliveries) if (await queue.release(db, d, owner)) released++;
      if (released > 0) madeDue(ctx, released);
    },

    /** When the next pending delivery falls due (ms; a leased one when its lease runs out), so an idle worker sleeps exactly that long. */
    async nextDueAt(): Promise<number | undefined> {
      return queue.nextDueAt(db);
    },

    /** For /metrics: how many deliveries are due now, and how long the oldest has waited. */
    async queueStats(): Promise<{ due: number; oldestDueAgeSeconds: number }> {
      const nowMs = Date.now();
      const { due, oldest } = await queue.dueStats(db, nowMs);
      return { due, oldestDueAgeSeconds: oldest === undefined ? 0 : Math.max(0, (nowMs - oldest) / 1000) };
    },
  };
}

function humanDuration(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size) {
      const n = Math.round(ms / size);
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import type { StoredEvent } from '../store/context.js';
import { createStore, type AttemptRecord, type ClaimedDelivery, type Store } from '../store/index.js';
import type { TestDatabase } from './databases.js';
import type { Tables } from '../store/schema.js';
import type { WebhookKey } from '../store/webhooks.js';
import { separateQueue } from '../store/queue.js';

export interface StoreFixture {
  store: Store;
  /** Every event the store reported after commit, in order. */
  committed: StoredEvent[];
  close(): Promise<void>;
}

export async function openStore(target: TestDatabase, options: { poolSize?: number } = {}): Promise<StoreFixture> {
  const database = await target.open(options);
  const committed: StoredEvent[] = [];
  const store = createStore(database, {
    fileUrl: (account, key) => `http://files.test/files/${account}/${key}`,
    attemptsPerDelivery: 4,
    onCommit: ({ events }) => committed.push(...events),
  });
  return {
    store,
    committed,
    async close() {
      await store.close();
      await target.drop();
    },
  };
}

/** An attempt as the worker records it, for store tests that play the worker: 2xx for a success, 500 otherwise unless given. */
export function attemptRecord(delivery: ClaimedDelivery, outcome: AttemptRecord['outcome'], statusCode = outcome.status === 'succeeded' ? 200 : 500): AttemptRecord {
  const ok = statusCode >= 200 && statusCode < 300;
  return {
    delivery,
    startedAt: Date.now(),
    durationMs: 3,
    statusCode,
    requestHeadersJson: JSON.stringify({ 'x-protocol-attempt': String(delivery.attempt) }),
    responseHeadersJson: '{}',
    responseBody: 'ok',
    error: ok ? null : `HTTP ${statusCode}`,
    errorStage: ok ? null : 'http',
    outcome,
  };
}

/**
 * `changes` changes in `account`, each owed to every one of the webhooks named (made here, all
 * subscribed to contact.created), then everything due claimed by `owner`: per webhook, in the
 * order named, its id and its claimed deliveries, oldest first.
 */
export async function claimedPerWebhook(store: Store, account: string, names: string[], changes: number, owner = 'o') {
  const ids: string[] = [];
  for (const name of names) ids.push((await store.webhooks.create(account, { name, url: `https://example.com/${name}`, events: ['contact.created'] })).id);
  for (let i = 0; i < changes; i++) await store.contacts.create(account, { username: `${names[0]}-${i}`, phone_number: `${i}` });
  const claimed = await store.claims.claim(owner, { limit: 100, leaseMs: 60_000 });
  return ids.map((id) => ({ id, claimed: claimed.filter((d) => d.webhookId === id) }));
}

/**
 * Three writes side by side, the middle one failing (a member that does not exist): on SQLite
 * they share one transaction, which the failure rolls back, and the other two run again.
 */
export async function groupsOneFailing(store: Store, account: string): Promise<void> {
  const results = await Promise.allSettled([
    store.groups.create(account, { name: 'ok-1' }),
    store.groups.create(account, { name: 'bad', contacts: ['no-such-contact'] }),
    store.groups.create(account, { name: 'ok-2' }),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
}

/** Waits (up to 5 s) until `notified()` reaches `count`, then a little longer, so that any extra notification, or a failed attempt still under way, has come and gone. */
export async function notificationsReach(notified: () => number, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (notified() < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/**
 * Counts the store's calls to wake other processes, where it decides to (a NOTIFY on PostgreSQL).
 * A listener alone cannot tell a test's notification from one an earlier test's commit still
 * had on its way, so exact counts are taken here and listeners only show that they arrive.
 */
export function countNotifies(store: Store): { count(): number; restore(): void } {
  const { database } = store;
  const notify = database.notifyDeliveries;
  let count = 0;
  database.notifyDeliveries = () => {
    count++;
    notify();
  };
  return { count: () => count, restore: () => void (database.notifyDeliveries = notify) };
}

/** A webhook's id and key (`seq`), by which the store finds its deliveries (migration 010). */
export async function webhookKey(db: Kysely<Tables>, id: string): Promise<WebhookKey> {
  const { rows } = await sql<{ seq: number }>`select seq from webhooks where id = ${id}`.execute(db);
  return { id, seq: Number(rows[0]!.seq) };
}

/**
 * Every delivery with its place in the queue (store/queue.ts), as a relation for a test's SQL:
 * `seq`, `id`, `status`, `lease_owner` and `due_at` (when it may be claimed; a leased one's is its
 * lease's end). SQLite keeps them in `deliveries`, PostgreSQL in `delivery_queue` (migration 011).
 */
export const queued = (db: Kysely<Tables>) =>
  separateQueue(db)
    ? sql`(select d.seq, d.id, d.status, q.lease_owner, q.due_at from deliveries d left join delivery_queue q on q.seq = d.seq)`
    : sql`(select seq, id, status, lease_owner, due_at from deliveries)`;

/** How many deliveries the queue holds (pending ones): SQLite's pending rows, PostgreSQL's queue rows, orphans included. */
export async function queueLength(db: Kysely<Tables>): Promise<number> {
  const { rows } = separateQueue(db)
    ? await sql<{ n: number }>`select count(*) as n from delivery_queue`.execute(db)
    : await sql<{ n: number }>`select count(*) as n from deliveries where status = 'pending'`.execute(db);
  return Number(rows[0]!.n);
}

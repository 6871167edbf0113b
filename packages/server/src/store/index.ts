import { sql } from 'kysely';
import { accountsStore } from './accounts.js';
import { attachmentsStore } from './attachments.js';
import { claimsStore } from './claims.js';
import type { Committed, StoreContext } from './context.js';
import { contactsStore } from './contacts.js';
import { conversationsStore } from './conversations.js';
import type { Database } from './database.js';
import { deliveriesStore } from './deliveries.js';
import { eventsStore } from './events.js';
import { createGroupCommit } from './group-commit.js';
import type { HandOver } from './hand-over.js';
import { LeaseEnds } from './lease.js';
import { groupsStore } from './groups.js';
import { idempotencyStore } from './idempotency.js';
import { messagesStore } from './messages.js';
import { rateLimitsStore } from './rate-limits.js';
import { retentionStore } from './retention.js';
import { statisticsStore } from './statistics.js';
import { webhooksStore } from './webhooks.js';

export type { Committed, StoredEvent } from './context.js';
export type { HandOver } from './hand-over.js';
export type { AttemptRecord, ClaimedDelivery } from './claims.js';
export { openDatabase, refusedData, type Database } from './database.js';
export { migrate } from './migrations/index.js';
export type { IdempotencyClaim } from './idempotency.js';

/**
 * The store: every domain operation Protocol performs, written once with Kysely for SQLite and
 * PostgreSQL. Callers see resources, events and deliveries, never SQL. Each write runs in one
 * transaction that also stores its events and their deliveries.
 */
export interface StoreOptions {
  fileUrl: (account: string, storageKey: string) => string;
  /** Attempts a new delivery gets: the retry schedule's length + 1. */
  attemptsPerDelivery: number;
  now?: () => number;
  /** Told about every committed write that stored events or queued deliveries (the in-process wake-up). */
  onCommit?: (committed: Committed) => void;
}

export function createStore(database: Database, options: StoreOptions) {
  const listeners = new Set<(committed: Committed) => void>();
  if (options.onCommit) listeners.add(options.onCommit);
  const ctx: StoreContext = {
    db: database.db,
    database,
    now: options.now ?? (() => Math.floor(Date.now() / 1000)),
    fileUrl: options.fileUrl,
    attemptsPerDelivery: options.attemptsPerDelivery,
    afterCommit: (committed) => {
      // Deliveries handed over are leased to this process's worker: a NOTIFY for them would only
      // wake every worker, this one too, to claim nothing.
      if (committed.deliveries > committed.handedOver) database.notifyDeliveries();
      listeners.forEach((listener) => listener(committed));
    },
    groupCommit: createGroupCommit(database),
    leaseEnds: new LeaseEnds(),
  };
  return {
    database,
    accounts: accountsStore(ctx),
    contacts: contactsStore(ctx),
    conversations: conversationsStore(ctx),
    messages: messagesStore(ctx),
    groups: groupsStore(ctx),
    attachments: attachmentsStore(ctx),
    events: eventsStore(ctx),
    webhooks: webhooksStore(ctx),
    deliveries: deliveriesStore(ctx),
    claims: claimsStore(ctx),
    idempotency: idempotencyStore(ctx),
    rateLimits: rateLimitsStore(ctx),
    retention: retentionStore(ctx),
    statistics: statisticsStore(ctx),
    /** This process's worker takes new deliveries as they are written (hand-over.ts); undefined stops that. */
    handOverTo(handOver: HandOver | undefined): void {
      ctx.handOver = handOver;
    },
    /** Subscribes to committed writes; returns the unsubscribe. */
    onCommit(listener: (committed: Committed) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Answers when the database does: the readiness probe. */
    async ping(): Promise<void> {
      await sql`select 1`.execute(database.db);
    },
    close: () => database.close(),
  };
}

export type Store = ReturnType<typeof createStore>;

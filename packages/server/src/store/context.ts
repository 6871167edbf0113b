import type { Kysely, Transaction } from 'kysely';
import type { EventType, WebhookEvent } from '@protocol/sdk';
import type { DialectName } from './database.js';
import type { Tables } from './schema.js';
import { newId } from './ids.js';

/** What every part of the store shares: the handle, the clock and how to write. */
export interface StoreContext {
  db: Kysely<Tables>;
  dialect: DialectName;
  /** Unix seconds; injectable so tests control time. */
  now(): number;
  /** The public URL of an attachment's file. */
  fileUrl(account: string, storageKey: string): string;
  /** Called after a write commits, with the events it stored (the worker's in-process wake-up). */
  afterCommit(events: StoredEvent[]): void;
}

export interface StoredEvent {
  id: string;
  accountId: string;
  type: EventType;
}

/** One write: a transaction scoped to an account, with the events it emits. */
export interface WriteScope {
  tx: Transaction<Tables>;
  account: string;
  now: number;
  /** Stores the event in this transaction: it exists if and only if the change commits. */
  emit<T extends EventType>(type: T, payload: Extract<WebhookEvent, { type: T }>['payload']): Promise<void>;
}

export async function write<T>(ctx: StoreContext, account: string, work: (scope: WriteScope) => Promise<T>): Promise<T> {
  const emitted: StoredEvent[] = [];
  const result = await ctx.db.transaction().execute(async (tx) => {
    const now = ctx.now();
    return work({
      tx,
      account,
      now,
      async emit(type, payload) {
        const id = newId();
        // The delivery body is serialized once, here, and never again.
        const body = JSON.stringify({ id, type, payload });
        await tx.insertInto('events').values({ id, account_id: account, type, body, created_at: now }).execute();
        emitted.push({ id, accountId: account, type });
      },
    });
  });
  if (emitted.length > 0) ctx.afterCommit(emitted);
  return result;
}

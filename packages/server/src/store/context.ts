import type { Kysely } from 'kysely';
import type { EventType, WebhookEvent } from '@protocol/sdk';
import type { Database } from './database.js';
import { bindConnection, compiled, slot } from './compiled.js';
import { fanOut } from './fanout.js';
import type { GroupCommit } from './group-commit.js';
import { Reservation, type HandOver } from './hand-over.js';
import type { LeaseEnds } from './lease.js';
import type { Tables } from './schema.js';
import { newId } from './ids.js';

/** What every part of the store shares: the handle, the clock, and what to tell after a commit. */
export interface StoreContext {
  db: Kysely<Tables>;
  database: Database;
  /** Unix seconds; injectable so tests control time. */
  now(): number;
  /** The public URL of an attachment's file. */
  fileUrl(account: string, storageKey: string): string;
  /** The number of attempts a new delivery gets: the retry schedule's length + 1. */
  attemptsPerDelivery: number;
  /** Called after a write commits: the events it stored and how many deliveries they made. */
  afterCommit(committed: Committed): void;
  /** Writes share transactions (group-commit.ts). */
  groupCommit: GroupCommit;
  /** This process's worker, when it takes new deliveries as they are written (hand-over.ts). */
  handOver?: HandOver;
  /** Every lease's end, claims' and hand-overs' (lease.ts). */
  leaseEnds: LeaseEnds;
}

export interface StoredEvent {
  id: string;
  accountId: string;
  type: EventType;
}

export interface Committed {
  events: StoredEvent[];
  deliveries: number;
  /** Of those, how many this process's worker took as they were written (nothing to claim). */
  handedOver: number;
}

/**
 * After a commit that made existing deliveries due (a retry asked for, leases given back): wakes
 * the workers as new deliveries do, this process's and (PostgreSQL) the others'.
 */
export const madeDue = (ctx: StoreContext, deliveries: number) => ctx.afterCommit({ events: [], deliveries, handedOver: 0 });

/** One write: a transaction scoped to an account, with the events it emits. */
export interface WriteScope {
  tx: Kysely<Tables>;
  account: string;
  now: number;
  /**
   * Stores the event and its deliveries in this transaction: they exist if and only if the
   * change commits, so a crash can never leave an event without its deliveries.
   */
  emit<T extends EventType>(type: T, payload: Extract<WebhookEvent, { type: T }>['payload']): Promise<void>;
}

const insertEvent = compiled((db) =>
  db.insertInto('events').values({ id: slot('id'), account_id: slot('account_id'), type: slot('type'), body: slot('body'), created_at: slot('created_at') }).returning('seq'),
);

export async function write<T>(ctx: StoreContext, account: string, work: (scope: WriteScope) => Promise<T>): Promise<T> {
  const committed: Committed = { events: [], deliveries: 0, handedOver: 0 };
  let reservation: Reservation | undefined;
  const inTransaction = async (tx: Kysely<Tables>) => {
    // Reset here: a group-commit savepoint that rolled back must not leave its events behind,
    // nor its deliveries' reserved room.
    committed.events = [];
    committed.deliveries = 0;
    reservation?.cancel();
    reservation = ctx.handOver?.accepting() ? new Reservation(ctx.handOver, ctx.leaseEnds) : undefined;
    await bindConnection(tx);
    const now = ctx.now();
    const value = await work({
      tx,
      account,
      now,
      async emit(type, payload) {
        const id = newId();
        // The delivery body is serialized once, here, and sent byte-identical on every attempt.
        const body = JSON.stringify({ id, type, payload });
        const stored = insertEvent(tx, { id, account_id: account, type, body, created_at: now });
        committed.events.push({ id, accountId: account, type });
        committed.deliveries += await fanOut(tx, { account, eventId: id, eventSeq: stored.then(({ rows }) => rows[0]!.seq), type, body, now, finalAttempt: ctx.attemptsPerDelivery }, reservation);
      },
    });
    return value;
  };
  let result: T;
  try {
    result = await ctx.groupCommit(inTransaction);
  } catch (error) {
    reservation?.cancel();
    throw error;
  }
  if (reservation) {
    committed.handedOver = reservation.deliveries.length;
    reservation.deliver();
  }
  if (committed.events.length > 0) ctx.afterCommit(committed);
  return result;
}

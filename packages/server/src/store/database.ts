import { sql, type Kysely } from 'kysely';
import type { Tables } from './schema.js';
import { deliveryNotifier, listenForDeliveries, openPostgres } from './dialects/postgres.js';
import { openSqlite, type SqliteSync } from './dialects/sqlite.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * An open database: the Kysely handle plus the few things that differ per dialect, as named
 * capabilities (after pg-boss and Kysely): how workers claim, and how they are woken.
 */
export interface Database {
  db: Kysely<Tables>;
  dialect: DialectName;
  /**
   * `FOR UPDATE SKIP LOCKED`: concurrent transactions pass over a locked row instead of waiting
   * (the `last_active_at` touch; claims carry their own per dialect, lease.ts). SQLite has one
   * writer at a time and needs none.
   */
  skipLocked: boolean;
  /** Called after a commit that queued deliveries, to wake workers in other processes (nothing on SQLite: one process writes). */
  notifyDeliveries(): void;
  /** Subscribes to other processes' notifications; undefined where only one process can write. */
  listenForDeliveries?(onNotify: () => void): Promise<() => Promise<void>>;
  /**
   * Serializes transactions that call it with the same name until they end: a transaction-scoped
   * advisory lock on PostgreSQL; nothing on SQLite, whose write transactions already run one at
   * a time (BEGIN IMMEDIATE).
   */
  lock(tx: Kysely<Tables>, name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Whether the database refused a statement for the data it carried, so that it would refuse the
 * same data again: PostgreSQL's data exceptions and integrity violations (SQLSTATE classes 22 and
 * 23), SQLite's constraint, type, size and range errors. Not when it could not run it at all
 * (down, busy, full, closed): that may pass.
 */
export function refusedData(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (/^2[23][0-9A-Z]{3}$/.test(code) || /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code));
}

/** Chooses the dialect by the URL's scheme: `sqlite:<path>` or `postgres://…`. */
export function openDatabase(url: string, options: { poolSize?: number; sqliteSync?: SqliteSync; asyncCommit?: boolean } = {}): Database {
  if (url.startsWith('sqlite:')) {
    const db = openSqlite(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''), { synchronous: options.sqliteSync });
    return { db, dialect: 'sqlite', skipLocked: false, notifyDeliveries: () => {}, lock: async () => {}, close: () => db.destroy() };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const db = openPostgres(url, { max: options.poolSize, asyncCommit: options.asyncCommit });
    const notifier = deliveryNotifier(url);
    return {
      db,
      dialect: 'postgres',
      skipLocked: true,
      notifyDeliveries: notifier.notify,
      lock: async (tx, name) => void (await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(tx)),
      listenForDeliveries: (onNotify) => listenForDeliveries(url, onNotify),
      close: async () => {
        await notifier.close();
        await db.destroy();
      },
    };
  }
  throw new Error(`Unsupported database URL scheme: ${url.split(':')[0]}`);
}

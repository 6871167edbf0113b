import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Tables } from '../schema.js';

/**
 * int8 columns (our `seq`s, ms timestamps, `count(*)`) come back from pg as strings by default.
 * Every value we keep in them is far below 2^53, so numbers are exact and the store code is the
 * same on both dialects.
 */
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** The channel that tells workers in other processes that deliveries were created. */
export const DELIVERIES_CHANNEL = 'protocol_deliveries';

export function openPostgres(url: string, options: { max?: number } = {}): Kysely<Tables> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client's error (e.g. the server restarting) must not crash the process; the next
  // query reconnects.
  pool.on('error', () => {});
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}

/** Inside the creating transaction, so the notification is sent if and only if it commits. */
export async function notifyDeliveries(db: Kysely<Tables>): Promise<void> {
  await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(db);
}

/**
 * LISTEN on a dedicated connection. Notifications are only a hint that work is waiting: the
 * worker's polling stays the source of truth, so a lost connection is simply re-opened.
 */
export async function listenForDeliveries(url: string, onNotify: () => void): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', onNotify);
    next.on('error', () => {
      next.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void connect().catch(() => {}), 1000);
    });
    await next.connect();
    await next.query(`LISTEN ${DELIVERIES_CHANNEL}`);
    client = next;
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}

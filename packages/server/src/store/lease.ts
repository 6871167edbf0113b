import { sql, type Kysely } from 'kysely';
import type { Row, Tables } from './schema.js';
import { compiled, slot } from './compiled.js';
import type { Database } from './database.js';
import { status } from './status.js';

const COLUMNS = ['id', 'account_id', 'event_id', 'event_type', 'webhook_id', 'attempt_count', 'final_attempt'] as const;
const WEBHOOK_COLUMNS = ['url', 'enabled', 'secret', 'previous_secret', 'previous_secret_expires_at'] as const;

/** A leased delivery's row, joined with its event's body and its webhook's URL and secrets. */
export type LeasedRow = Pick<Row<'deliveries'>, (typeof COLUMNS)[number]> & Pick<Row<'events'>, 'body'> & Pick<Row<'webhooks'>, (typeof WEBHOOK_COLUMNS)[number]>;

// A type, not an interface: it is passed as a record of slot values.
export type LeaseParams = {
  owner: string;
  /** The lease's end (ms): distinct per claim, so it names exactly this claim's rows. */
  until: number;
  now: number;
  limit: number;
  /** Webhooks the worker has no room for. */
  exclude: string[];
};

/**
 * SQLite: two statements, one shape each whatever the batch or the exclusions (those go in as a
 * JSON array), compiled once. One writer at a time, so nothing else can take the rows between them.
 */
const leaseSqlite = compiled((db) =>
  db
    .updateTable('deliveries')
    .set({ lease_owner: slot('owner'), lease_expires_at: slot('until'), due_at: slot('until') })
    .where('seq', 'in', (eb) =>
      eb
        .selectFrom('deliveries')
        .select('seq')
        .where('status', '=', status('pending'))
        .where('due_at', '<=', slot('now'))
        .where('webhook_id', 'not in', sql<string>`(select value from json_each(${slot('exclude')}))`)
        .orderBy('due_at')
        .limit(slot('limit')),
    ),
);
const leasedSqlite = compiled((db) =>
  db
    .selectFrom('deliveries')
    .innerJoin('events', (join) => join.onRef('events.account_id', '=', 'deliveries.account_id').onRef('events.id', '=', 'deliveries.event_id'))
    .innerJoin('webhooks', (join) => join.onRef('webhooks.account_id', '=', 'deliveries.account_id').onRef('webhooks.id', '=', 'deliveries.webhook_id'))
    .select([...COLUMNS.map((c) => `deliveries.${c}` as const), 'events.body', ...WEBHOOK_COLUMNS.map((c) => `webhooks.${c}` as const)])
    .where('deliveries.status', '=', status('pending'))
    .where('deliveries.due_at', '=', slot('until'))
    .where('deliveries.lease_owner', '=', slot('owner'))
    .orderBy('deliveries.seq'),
);

/**
 * PostgreSQL: one statement (pick with SKIP LOCKED, lease, return joined), so a claim is one
 * round trip inside its transaction.
 */
export const leasePostgres = compiled((db) => ({
  compile: () =>
    sql<LeasedRow>`with due as (
        select seq from deliveries
        where status = 'pending' and due_at <= ${slot('now')} and webhook_id <> all(cast(${slot('exclude')} as text[]))
        order by due_at limit ${slot('limit')} for update skip locked
      ), leased as (
        update deliveries set lease_owner = ${slot('owner')}, lease_expires_at = ${slot('until')}, due_at = ${slot('until')}
        from due where deliveries.seq = due.seq
        returning ${sql.join(COLUMNS.map((c) => sql.ref(`deliveries.${c}`)))}, deliveries.seq
      )
      select ${sql.join(COLUMNS.map((c) => sql.ref(`leased.${c}`)))}, events.body, ${sql.join(WEBHOOK_COLUMNS.map((c) => sql.ref(`webhooks.${c}`)))}
      from leased
      join events on events.account_id = leased.account_id and events.id = leased.event_id
      join webhooks on webhooks.account_id = leased.account_id and webhooks.id = leased.webhook_id
      order by leased.seq`.compile(db),
}));

/** The claim's transaction on PostgreSQL; one round trip (simple-protocol statements without parameters may go together). */
export const BEGIN_PINNED = 'begin; set local enable_bitmapscan = off';

/**
 * Leases up to `limit` due deliveries, oldest due first, and returns them ready to send.
 *
 * The lease also moves `due_at` to its expiry (a visibility timeout): a held delivery is not
 * due, so claims scan only claimable rows however many are in flight, and a crashed worker's
 * deliveries fall due again exactly when their leases run out.
 *
 * On PostgreSQL the pick must walk the partial `deliveries_due` index in order and stop at
 * `limit`. With statistics from when few deliveries were pending (a backlog builds faster than
 * autovacuum re-analyzes), the planner chose a bitmap scan of every due row plus a sort
 * instead: 6–10 ms per claim at 40,000 due, growing with the backlog, and half the database's
 * time in the benchmark. The claim's transaction turns bitmap scans off, so the plan no longer
 * depends on how fresh the statistics are.
 */
export async function leaseDue(database: Database, params: LeaseParams): Promise<LeasedRow[]> {
  const { db } = database;
  if (database.dialect === 'sqlite') {
    const leased = await leaseSqlite(db, { ...params, exclude: JSON.stringify(params.exclude) });
    if (Number(leased.numAffectedRows) === 0) return [];
    return (await leasedSqlite(db, params)).rows;
  }
  return db.connection().execute(async (connection: Kysely<Tables>) => {
    await sql.raw(BEGIN_PINNED).execute(connection);
    try {
      const { rows } = await leasePostgres(connection, params);
      await sql.raw('commit').execute(connection);
      return rows;
    } catch (error) {
      await sql.raw('rollback').execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

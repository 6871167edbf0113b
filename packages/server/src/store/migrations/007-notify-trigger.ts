import { sql, type Kysely } from 'kysely';
import { DELIVERIES_CHANNEL } from '../dialects/postgres.js';
import type { Ddl } from './ddl.js';

/**
 * PostgreSQL: a statement that inserts deliveries wakes the workers listening in other processes
 * itself. The NOTIFY is part of the inserting transaction (sent if and only if it commits), and
 * an API write no longer spends a round trip of its own on it: one of nine statements per sent
 * message, at ~100 µs of CPU each on both sides of the socket. Re-queued deliveries (retry,
 * recover) are updates, and notify explicitly. SQLite wakes its one process's worker in-process.
 */
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  if (ddl.dialect !== 'postgres') return;
  // The channel names the schema, so databases sharing a server (a schema each) do not wake each other.
  await sql`create function protocol_deliveries_inserted() returns trigger language plpgsql as $$
    begin
      perform pg_notify(${sql.lit(DELIVERIES_CHANNEL)} || '.' || current_schema(), '');
      return null;
    end $$`.execute(db);
  await sql`create trigger deliveries_notify after insert on deliveries for each statement execute function protocol_deliveries_inserted()`.execute(db);
}

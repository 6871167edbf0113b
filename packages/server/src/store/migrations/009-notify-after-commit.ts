import { sql, type Kysely } from 'kysely';
import type { Ddl } from './ddl.js';

/**
 * PostgreSQL: workers in other processes are notified after the commit instead of inside it
 * (`deliveryNotifier`, dialects/postgres.ts), so migration 007's trigger goes: notifying
 * transactions commit one at a time, and the API's commits queued behind each other there.
 */
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  if (ddl.dialect !== 'postgres') return;
  await sql`drop trigger deliveries_notify on deliveries`.execute(db);
  await sql`drop function protocol_deliveries_inserted()`.execute(db);
}

import { CompiledQuery, type Kysely } from 'kysely';
import type { Tables } from './schema.js';
import type { Database } from './database.js';
import { bindConnection } from './compiled.js';

/**
 * PostgreSQL's transactions (`pinnedTransaction`): the worker's (claim, record) and the API's
 * writes (a batch of them at a time through group-commit.ts). Each opens with planner settings of
 * its own in the BEGIN's message (simple-protocol statements without parameters may go together),
 * and that message goes with the work's first statements.
 *
 * Every statement in them finds rows by a unique key or walks an index in order, so a plan that
 * reads a whole table, or every due row, is only ever a misestimate. Those came from statistics
 * that lag the tables (a new installation, a backlog that built faster than autovacuum
 * re-analyzes, autovacuum off):
 * - the claim's pick as a bitmap scan of every due row plus a sort, 6–10 ms per claim at 40,000
 *   due and growing with the backlog, half the database's time in the benchmark;
 * - a batch's results written through a sequential scan of `deliveries` (9 ms per batch at
 *   13,000 rows, growing with the table), hashed against the batch;
 * - fan-out's subscribed webhooks found by a scan of every webhook once per subscription, as the
 *   planner took the subscriptions for one row (fanout.test.ts: ~15,000 webhook rows read a
 *   change for an account of 300 webhooks, 100 of them subscribed; growing with the square).
 * Turned off here, none depends on how fresh the statistics are. Where no index serves a
 * statement, PostgreSQL still scans: the settings only price the scans out. Choosing between two
 * indexes that both serve a statement still takes statistics: where autovacuum does not keep
 * them, the workers do (statistics.ts).
 */
export const BEGIN_PINNED = 'begin; set local enable_bitmapscan = off; set local enable_seqscan = off';

/**
 * A PostgreSQL transaction on one connection of the pool whose BEGIN (with the settings above) is
 * not waited for by itself: the driver (pipeline mode) sends it with the work's first statements.
 */
export async function pinnedTransaction<T>(db: Kysely<Tables>, work: (tx: Kysely<Tables>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    const held = await bindConnection(connection);
    const run = (text: string) => held.executeQuery(CompiledQuery.raw(text));
    const begun = run(BEGIN_PINNED);
    try {
      const [, result] = await Promise.all([begun, work(connection)]);
      // PostgreSQL answers COMMIT with ROLLBACK when a statement failed in the transaction, even
      // one whose error the work caught: then nothing was written, and the caller must know.
      const { rows } = await run('commit');
      if ((rows[0] as { command?: string } | undefined)?.command === 'ROLLBACK') throw new Error('the transaction was rolled back: one of its statements failed');
      return result;
    } catch (error) {
      await run('rollback').catch(() => undefined);
      throw error;
    }
  });
}

/** A worker's transaction on either database: pinned on PostgreSQL; SQLite's planner needs no help. */
export function workerTransaction<T>(database: Database, work: (tx: Kysely<Tables>) => Promise<T>): Promise<T> {
  if (database.dialect !== 'sqlite') return pinnedTransaction(database.db, work);
  return database.db.transaction().execute(async (tx) => {
    await bindConnection(tx);
    return work(tx);
  });
}

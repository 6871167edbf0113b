import { sql, type Kysely, type Transaction } from 'kysely';
import type { Tables } from './schema.js';

interface Job<T> {
  work: (tx: Transaction<Tables>) => Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for SQLite: the writes that arrive while one transaction runs share the next
 * one. Each runs inside its own savepoint, so a failing write rolls back alone and the others
 * commit; every write is acknowledged only after the shared COMMIT. One commit then writes the
 * pages many changes touched (the same index leaves, the tables' last pages) to the WAL once,
 * and a burst of API calls costs one BEGIN/COMMIT instead of one each.
 *
 * SQLite has one writer at a time anyway (and Kysely's driver one connection), so nothing that
 * could run in parallel is serialized; PostgreSQL runs concurrent transactions on its own and
 * does not use this.
 */
export function createGroupCommit(db: Kysely<Tables>) {
  let queue: Array<Job<any>> = [];
  let running = false;

  async function flush(): Promise<void> {
    const jobs = queue;
    queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      await db.transaction().execute(async (tx) => {
        for (const [i, job] of jobs.entries()) {
          await sql.raw(`savepoint w${i}`).execute(tx);
          try {
            outcomes.push({ ok: true, value: await job.work(tx) });
            await sql.raw(`release w${i}`).execute(tx);
          } catch (error) {
            await sql.raw(`rollback to w${i}`).execute(tx);
            await sql.raw(`release w${i}`).execute(tx);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The COMMIT itself failed: nothing was written, so every write fails.
      jobs.forEach((job) => job.reject(error));
      return;
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  }

  async function drain(): Promise<void> {
    running = true;
    // One turn of the event loop first, so requests already read can join this batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (queue.length > 0) await flush();
    } finally {
      running = false;
    }
  }

  return function run<T>(work: (tx: Transaction<Tables>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve, reject });
      if (!running) void drain();
    });
  };
}

export type GroupCommit = ReturnType<typeof createGroupCommit>;

import { sql, type Kysely, type Transaction } from 'kysely';
import type { Tables } from './schema.js';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The write that failed in a batch's first pass; the transaction was rolled back. */
class Failed {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {}
}

interface Job<T> {
  work: (tx: Transaction<Tables>) => Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for SQLite: the writes that arrive while one transaction runs share the next
 * one, and every write is acknowledged only after the shared COMMIT. One commit then writes the
 * pages many changes touched (the same index leaves, the tables' last pages) to the WAL once,
 * and a burst of API calls costs one BEGIN/COMMIT instead of one each.
 *
 * A failing write must roll back alone while the others commit. The batch first runs without
 * savepoints: a savepoint per write costs two statements and a copy of every page the write
 * touches into SQLite's sub-journal, and dropping them took 11% (median of 7 alternating runs)
 * off the API's CPU per `POST /v1/messages`. If a write fails, the transaction rolls back, that
 * write fails with its error, and the others run again, each in a savepoint of its own. Writes
 * are database work only, so running one again after a rollback changes nothing.
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
    let outcomes: Outcome[];
    try {
      outcomes = await together(jobs).catch(async (error) => {
        if (!(error instanceof Failed)) throw error;
        // The failed write keeps its error (it ran on the state the writes before it left, as it
        // would again); the others run again, each in a savepoint.
        const others = await isolated(jobs.filter((_, i) => i !== error.index));
        return [...others.slice(0, error.index), { ok: false, error: error.error }, ...others.slice(error.index)];
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

  /** Every write in one transaction, no savepoints; the first failure rolls all of it back (Failed). */
  function together(jobs: Array<Job<any>>): Promise<Outcome[]> {
    return db.transaction().execute(async (tx) => {
      const outcomes: Outcome[] = [];
      for (const [i, job] of jobs.entries()) {
        try {
          outcomes.push({ ok: true, value: await job.work(tx) });
        } catch (error) {
          throw new Failed(i, error);
        }
      }
      return outcomes;
    });
  }

  /** Every write in its own savepoint: a failing one rolls back alone. */
  function isolated(jobs: Array<Job<any>>): Promise<Outcome[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    return db.transaction().execute(async (tx) => {
      const outcomes: Outcome[] = [];
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
      return outcomes;
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

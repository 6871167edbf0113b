import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { pinnedTransaction } from './pinned.js';
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
  /** Runs on the transaction's handle: a Kysely transaction on SQLite, its connection on PostgreSQL. */
  work: (tx: Kysely<Tables>) => Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: the writes that arrive while one transaction runs share the next one, and every
 * write is acknowledged only after the shared COMMIT. A burst of API calls costs one BEGIN/COMMIT
 * (and one WAL flush) instead of one each.
 * - SQLite: one commit writes the pages many changes touched (the same index leaves, the tables'
 *   last pages) to the WAL once. It has one writer at a time anyway, so nothing that could run in
 *   parallel is serialized. Its driver answers synchronously: the writes run one after another.
 * - PostgreSQL: the writes run side by side on the transaction's connection, so their statements
 *   go out together (pipeline mode, dialects/postgres.ts): one socket write and one wake-up of
 *   the server's process for a batch where each transaction of its own had several. With one
 *   transaction per write, `POST /v1/messages` cost the API ~1.3 ms of CPU and the machine ~4.8 ms
 *   (its socket writes a third of the API's time); shared, 0.47–0.60 and 2.1–2.6 ms, and the API
 *   took 1.8–2.5× the requests per second (1 API + 2 workers, 32 connections, side by side).
 *
 * A failing write must roll back alone while the others commit. The batch first runs without
 * savepoints: a savepoint per write costs two statements and a copy of every page the write
 * touches into SQLite's sub-journal, and dropping them took 11% (median of 7 alternating runs)
 * off the API's CPU per `POST /v1/messages`. If a write fails, the transaction rolls back, that
 * write fails with its error, and the others run again, each in a savepoint of its own. Writes
 * are database work only, so running one again after a rollback changes nothing.
 */
export function createGroupCommit(database: Pick<Database, 'db' | 'dialect'>) {
  const { db } = database;
  const sideBySide = database.dialect !== 'sqlite';
  const transaction = <T>(work: (tx: Kysely<Tables>) => Promise<T>): Promise<T> =>
    sideBySide ? pinnedTransaction(db, work) : db.transaction().execute(work);
  let queue: Array<Job<any>> = [];
  let running = false;

  async function flush(): Promise<void> {
    const jobs = queue;
    queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = await together(jobs).catch(async (error) => {
        if (!(error instanceof Failed)) throw error;
        // PostgreSQL gave up the transaction itself (a deadlock with a worker's, say): no write
        // is to blame, and every one runs again.
        if (rolledBack(error.error)) return isolated(jobs);
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
    return transaction(async (tx) => {
      if (sideBySide) return inPipeline(jobs, tx);
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

  /**
   * PostgreSQL: every write at once, their statements pipelined on the transaction's connection.
   * The failure kept is the first that is not a consequence of another: once a statement fails,
   * PostgreSQL refuses the rest of the transaction's (25P02), which fail other writes too.
   */
  async function inPipeline(jobs: Array<Job<any>>, tx: Kysely<Tables>): Promise<Outcome[]> {
    let failed: Failed | undefined;
    const values = await Promise.all(
      jobs.map((job, i) =>
        job.work(tx).catch((error: unknown) => {
          if (!failed || (aborted(failed.error) && !aborted(error))) failed = new Failed(i, error);
        }),
      ),
    );
    if (failed) throw failed;
    return values.map((value) => ({ ok: true, value }));
  }

  /** Every write in its own savepoint: a failing one rolls back alone. */
  function isolated(jobs: Array<Job<any>>): Promise<Outcome[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    return transaction(async (tx) => {
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

  return function run<T>(work: (tx: Kysely<Tables>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve, reject });
      if (!running) void drain();
    });
  };
}

const sqlState = (error: unknown) => (error as { code?: unknown } | null)?.code;
/** PostgreSQL's refusal of a statement because an earlier one failed in the transaction. */
const aborted = (error: unknown) => sqlState(error) === '25P02';
/** PostgreSQL's class 40, transaction rollback: a deadlock or serialization failure, nothing one statement did wrong. */
const rolledBack = (error: unknown) => String(sqlState(error)).startsWith('40');

export type GroupCommit = ReturnType<typeof createGroupCommit>;

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import type { Tables } from '../schema.js';
import { ARRAY_ROWS } from './array-rows.js';

/** Distinct statements kept prepared; IN lists of many lengths make the set open-ended, so it is bounded. */
const STATEMENT_CACHE = 200;

export type SqliteSync = 'NORMAL' | 'FULL';

/**
 * The embedded default. WAL lets readers run beside the single writer. With
 * `synchronous=NORMAL` (the default) a killed process loses nothing that was acknowledged;
 * only a power cut may roll back the last transactions. `FULL` (PROTOCOL_SQLITE_SYNC=FULL)
 * survives that too, at the cost of an fsync per commit.
 */
export function openSqlite(file: string, options: { synchronous?: SqliteSync } = {}): Kysely<Tables> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  database.pragma('busy_timeout = 5000');
  // An 8 MiB page cache (2,048 pages) holds the hot index pages. Not more: when an index page
  // splits, SQLite renumbers pages through the lock-byte page's number (262,145 at 4 KiB), and
  // the commit that follows walks the whole cache to drop pages past the end of the file
  // (pcache1TruncateUnsafe, the main thread's largest native leaf at saturation). A quarter of the
  // cache is a quarter of that walk: 1.061× the deliveries per second of 32 MiB (16 alternating
  // saturated runs), a faster backlog drain, ~30 MB less RSS (bench/JOURNAL.md, session 18). No
  // memory-mapped I/O: mapped pages count as the process's resident memory, which then grows with
  // the database file (a worker draining a million-delivery backlog passed 370 MB with 256 MiB
  // mapped, 265 MB without it, at the same drain rate).
  database.pragma('cache_size = -8192');
  database.pragma('temp_store = MEMORY');
  database.pragma('foreign_keys = OFF');
  const checkpointer = file === ':memory:' ? undefined : startCheckpointer(database, path.resolve(file));
  // Kysely prepares every query afresh; preparing was the largest cost in the API's profile.
  // The same SQL text reuses its prepared statement (better-sqlite3 statements are reusable).
  const statements = new Map<string, SqliteDatabase.Statement>();
  const cached = {
    close: () => {
      checkpointer?.stop();
      database.close(); // the checkpointer's connection, the last out, checkpoints and removes the WAL
    },
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql); // re-insert: the Map's order is the LRU order
      } else {
        statement = database.prepare(sql);
        if (sql.startsWith(ARRAY_ROWS)) statement.raw(true);
        if (statements.size >= STATEMENT_CACHE) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
  const dialect = new ImmediateSqliteDialect({ database: cached as unknown as SqliteDatabase.Database }, () => checkpointer?.exited);
  const db = new Kysely<Tables>({ dialect });
  return db;
}

/**
 * Transactions take the write lock when they begin (`BEGIN IMMEDIATE`). A deferred transaction
 * that reads first and writes later cannot wait for the lock when another connection (a
 * `protocol worker` process on the same file) committed meanwhile: SQLite fails it with
 * SQLITE_BUSY at once. Taking the lock up front lets busy_timeout queue it instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly closed: () => Promise<void> | undefined,
  ) {
    super(config);
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  /** Done once the checkpointer's thread is gone too: then the files may be moved or removed. */
  override async destroy(): Promise<void> {
    await super.destroy();
    await this.closed();
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly options: SqliteDialectConfig,
    private readonly closed: () => Promise<void> | undefined,
  ) {
    super(options);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.options, this.closed);
  }
}

/**
 * Checkpoints mostly off the main thread. SQLite's automatic checkpoint runs inside whichever
 * commit crosses the WAL threshold, copying pages to the database file and fsyncing it on the
 * event loop: that made commits the largest single cost in the benchmark's profile. Here a
 * worker thread with its own connection runs PASSIVE checkpoints (they never block writers or
 * readers) every CHECKPOINT_EVERY_MS and does the copying.
 *
 * A checkpoint running beside a busy writer never quite catches up, though, and the WAL only
 * starts over after one that did: under a steady load it grew to gigabytes. So when the thread
 * reports that the WAL holds more than FINISH_FRAMES, the main connection, between its own
 * writes, finishes the job (little is left to copy) and the next commit starts the WAL over;
 * past RESTART_FRAMES (another process's writes keep even that from finishing) a RESTART
 * checkpoint waits for them. Rarely, so its pause stays out of the latency percentiles.
 *
 * The finishing checkpoint pauses the event loop for what the thread has not copied yet, and an
 * fsync. With the thread copying twice a second, those pauses were 2.4–7 ms at 2,000 changes/s
 * (one per ~7,800 WAL frames reported) and 9 ms (median, up to 15.5) in the throughput run; ten
 * times a second, 1.4–3.6 ms and 5.7 ms (up to 10.5), the WAL started over at ~4,900 frames
 * instead of ~7,800, and the process's CPU per delivery side by side was 1.007 [0.986–1.024].
 */
export const FINISH_FRAMES = 4096; // 16 MiB of 4 KiB pages
const RESTART_FRAMES = 16_384; // 64 MiB
export const CHECKPOINT_EVERY_MS = 100;

/**
 * The thread is asked to stop, never terminated: terminated inside better-sqlite3 (opening its
 * connection as the store closed and its directory was removed), the error better-sqlite3 then
 * throws cannot be created in a dying thread, and Node aborts the whole process
 * (`v8::ToLocalChecked Empty MaybeLocal`, seen in CI). Asked, it stops between checkpoints.
 */
function startCheckpointer(database: SqliteDatabase.Database, file: string): { stop(): void; exited: Promise<void> } {
  database.pragma('wal_autocheckpoint = 0');
  database.pragma(`journal_size_limit = ${RESTART_FRAMES * 4096}`); // a WAL that started over is cut back to this
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { file, everyMs: CHECKPOINT_EVERY_MS, driver: createRequire(import.meta.url).resolve('better-sqlite3') } });
  worker.unref();
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      // A thread that ended unasked (it could not open the file, or failed): SQLite's own checkpoints take over.
      if (!stopping && database.open) database.pragma('wal_autocheckpoint = 1000');
      resolve();
    }),
  );
  worker.on('error', () => {}); // its exit follows, handled above
  worker.on('message', ({ frames }: { frames: number }) => {
    if (frames < FINISH_FRAMES) return;
    try {
      database.pragma(frames > RESTART_FRAMES ? 'wal_checkpoint(RESTART)' : 'wal_checkpoint(PASSIVE)');
    } catch {
      // Busy: the next report tries again.
    }
  });
  return {
    stop() {
      stopping = true;
      worker.ref(); // whoever awaits `exited` keeps the process up until the thread is gone
      worker.postMessage('stop');
    },
    exited,
  };
}

const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.file);
  db.pragma('busy_timeout = 1000');
} catch {
  db = undefined; // the file is gone (the store closed meanwhile) or unreadable: the thread ends
}
if (db) {
  // Cheap when there is nothing new; otherwise copies what the WAL gained since the last one,
  // and tells the main thread how long the WAL has grown.
  const timer = setInterval(() => {
    try {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)');
      parentPort.postMessage({ frames: result.log });
    } catch {}
  }, workerData.everyMs);
  parentPort.once('message', () => {
    clearInterval(timer);
    db.close();
    parentPort.close();
  });
}
`;

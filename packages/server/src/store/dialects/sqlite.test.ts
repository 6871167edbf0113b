// The SQLite connection (sqlite.ts): its checkpointer, under a steady stream of commits the WAL
// starts over instead of growing and no commit is lost on the way; and its settings.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { CHECKPOINT_EVERY_MS, FINISH_FRAMES, openSqlite } from './sqlite.js';

const PAGE = 4096;

test('a steady writer keeps the WAL near FINISH_FRAMES: it starts over again and again instead of growing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-wal-'));
  const file = path.join(dir, 'wal.db');
  const db = openSqlite(file);
  try {
    await sql`create table load (id integer primary key, b blob not null)`.execute(db);
    // ~100 KB per commit, paced so the WAL gains ~25 MB/s: 4× FINISH_FRAMES in all, over ~3 s (without the checkpointer the WAL reached 73.5 MiB; with it, 17.4).
    const commits = Math.ceil((4 * FINISH_FRAMES * PAGE) / 100_000);
    let largest = 0;
    for (let i = 0; i < commits; i++) {
      await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 25) insert into load (b) select randomblob(4000) from n`.execute(db);
      // After a restart the WAL file is written again from its start, so its size is the WAL's high-water mark.
      largest = Math.max(largest, fs.statSync(`${file}-wal`).size);
      await new Promise((resolve) => setTimeout(resolve, 4));
    }
    const { rows } = await sql<{ n: number }>`select count(*) as n from load`.execute(db);
    assert.equal(Number(rows[0]!.n), commits * 25, 'every commit is there');
    // The thread reports every CHECKPOINT_EVERY_MS: past FINISH_FRAMES, allow ten reports' worth of writing (a loaded machine delays them).
    const bound = FINISH_FRAMES * PAGE + 10 * (CHECKPOINT_EVERY_MS / 1000) * 25e6;
    assert.ok(largest < bound, `the WAL file peaked at ${(largest / 2 ** 20).toFixed(1)} MiB, under ${(bound / 2 ** 20).toFixed(1)} MiB (4× FINISH_FRAMES were written)`);
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the connection's settings: WAL, NORMAL by default and FULL one setting away, an 8 MiB page cache, nothing memory-mapped", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-pragmas-'));
  const read = async (db: ReturnType<typeof openSqlite>, pragma: string) => Object.values((await sql.raw(`pragma ${pragma}`).execute(db)).rows[0] as object)[0];
  const normal = openSqlite(path.join(dir, 'normal.db'));
  const full = openSqlite(path.join(dir, 'full.db'), { synchronous: 'FULL' });
  try {
    assert.equal(await read(normal, 'journal_mode'), 'wal');
    assert.equal(await read(normal, 'synchronous'), 1, 'NORMAL');
    assert.equal(await read(full, 'synchronous'), 2, 'FULL');
    // Negative: KiB. A larger cache makes the commit after an index page split walk more of it (sqlite.ts).
    assert.equal(await read(normal, 'cache_size'), -8192);
    assert.equal(await read(normal, 'mmap_size'), 0);
  } finally {
    await normal.destroy();
    await full.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a store closed as soon as it opened, its directory removed at once: destroy() resolves once the checkpointer thread is gone, and the last connection out removed the WAL', async () => {
  // Terminated while it opened its connection to a file just removed, the checkpointer's thread
  // aborted the whole process (CI); asked to stop instead, it ends on its own, before destroy() resolves.
  // The process's threads, from Linux's /proc (CI's and this machine's); elsewhere this part is not checked.
  const threads = () => (fs.existsSync('/proc/self/task') ? fs.readdirSync('/proc/self/task').length : 0);
  await fs.promises.stat(os.tmpdir()); // libuv's thread pool starts now, not between two counts
  for (let i = 0; i < 30; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-close-'));
    const file = path.join(dir, 'close.db');
    const before = threads();
    const db = openSqlite(file);
    try {
      // A statement first: Kysely opens (and so closes) a driver only once it is used.
      await (i % 2 === 0 ? sql`select 1` : sql`create table t (id integer primary key)`).execute(db);
      await db.destroy();
      assert.equal(threads(), before, `round ${i}: the checkpointer's thread has ended`);
      assert.equal(fs.existsSync(`${file}-wal`), false, `round ${i}: the WAL is gone`);
    } finally {
      await db.destroy(); // a second destroy is a no-op; after a failed assertion it still closes
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

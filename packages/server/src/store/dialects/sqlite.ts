import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Tables } from '../schema.js';

/**
 * The embedded default. WAL lets readers run beside the single writer; `synchronous=NORMAL`
 * under WAL loses nothing when the process is killed (only on power loss may the last
 * transactions roll back), which is the guarantee SPEC §2 asks of a process crash.
 */
export function openSqlite(file: string): Kysely<Tables> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = OFF');
  return new Kysely<Tables>({ dialect: new SqliteDialect({ database }) });
}

import type { Kysely } from 'kysely';
import type { Tables } from './schema.js';
import { openPostgres } from './dialects/postgres.js';
import { openSqlite } from './dialects/sqlite.js';

export type DialectName = 'sqlite' | 'postgres';

/** An open database: the Kysely handle plus the few facts that differ per dialect. */
export interface Database {
  db: Kysely<Tables>;
  dialect: DialectName;
  close(): Promise<void>;
}

/** Chooses the dialect by the URL's scheme: `sqlite:<path>` or `postgres://…`. */
export function openDatabase(url: string): Database {
  if (url.startsWith('sqlite:')) {
    const db = openSqlite(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
    return { db, dialect: 'sqlite', close: () => db.destroy() };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const db = openPostgres(url);
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  throw new Error(`Unsupported database URL scheme: ${url.split(':')[0]}`);
}

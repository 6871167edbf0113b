import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Tables } from '../schema.js';

/**
 * int8 columns (our `seq`s, `count(*)`) come back from pg as strings by default. Every value we
 * keep in them is far below 2^53, so numbers are exact and the store code is the same on both
 * dialects.
 */
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export function openPostgres(url: string, options: { max?: number } = {}): Kysely<Tables> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client's error (e.g. the server restarting) must not crash the process; the next
  // query reconnects.
  pool.on('error', () => {});
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}

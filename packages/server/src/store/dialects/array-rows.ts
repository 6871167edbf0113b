import type { CompiledQuery, Compilable } from 'kysely';

/**
 * A statement whose text starts with this comes back with each row as an array, in the order of
 * its select list, from both drivers (better-sqlite3's `raw` mode, pg's `rowMode: 'array'`).
 *
 * For the claim's leased rows, 16 columns each: better-sqlite3 builds row objects in C++, one
 * property at a time, and that was half of the leased SELECT's cost (11.1 µs a row against 5.5 in
 * raw mode, 6.1 with the object built in JavaScript, measured alone on a saturated database).
 */
export const ARRAY_ROWS = '/* rows as arrays */ ';

/** `query`, compiled with the marker in front: its rows are arrays. */
export function arrayRows(query: Compilable<unknown>): Compilable<unknown[]> {
  return {
    compile: (): CompiledQuery<unknown[]> => {
      const compiled = query.compile();
      return { ...compiled, sql: ARRAY_ROWS + compiled.sql } as CompiledQuery<unknown[]>;
    },
  };
}

/** Names an array row's cells by the select list's column names, in order. */
export function named<R>(columns: readonly string[]): (cells: unknown[]) => R {
  return (cells) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]!] = cells[i];
    return row as R;
  };
}

import { PostgresAdapter, sql, type CompiledQuery, type Compilable, type DatabaseConnection, type Kysely, type QueryResult, type RawBuilder } from 'kysely';
import type { Tables } from './schema.js';
import { arrayParameter } from './dialects/pg-arrays.js';

/** Where a value of each run goes in a query built once. */
class Slot {
  constructor(readonly key: string | number) {}
}

/** A stand-in for `values[key]` of each run, typed as whatever the builder expects there. */
export const slot = <T = never>(key: string | number): T => new Slot(key) as unknown as T;

type Handle = Kysely<Tables>;
/** A run's values: by name (a row, say), or by position for statements of many rows. */
type Values = Readonly<Record<string, unknown>> | readonly unknown[];

/**
 * A query that Kysely builds and compiles once per dialect, on first use, and that then runs with
 * new values in its slots. Building the same few statements afresh for every API call showed as
 * ~15% of the API's CPU profile. The SQL is still Kysely's: compiled by the dialect of the handle
 * it runs on (a process may hold a SQLite and a PostgreSQL store at once, as the tests do).
 */
export function compiled<R>(build: (db: Handle) => Compilable<R>) {
  const byDialect = new Map<unknown, CompiledQuery<R>>();
  /** The statement for `db`'s dialect with this run's values in its slots. */
  const query = (db: Handle, values: Values): CompiledQuery<R> => {
    const dialect = db.getExecutor().adapter.constructor;
    let built = byDialect.get(dialect);
    if (!built) byDialect.set(dialect, (built = build(db).compile()));
    const parameters = built.parameters.map((value) => (value instanceof Slot ? (values as Record<string | number, unknown>)[value.key] : value));
    return { ...built, parameters };
  };
  return Object.assign((db: Handle, values: Values): Promise<QueryResult<R>> => {
    const compiledQuery = query(db, values);
    const connection = bound.get(db);
    return connection ? (connection.executeQuery(compiledQuery) as Promise<QueryResult<R>>) : db.executeQuery<R>(compiledQuery);
  }, { query });
}

/** Handles bound to one connection (a transaction's), with that connection. */
const bound = new WeakMap<Handle, DatabaseConnection>();

/**
 * Lets this module's queries on `handle` (a transaction, or a handle on one reserved connection)
 * run on its connection directly, past Kysely's executor: its connection provider, lock and
 * result transform cost ~2.3 µs a statement beside ~1.1 µs for the statement itself (SQLite,
 * measured alone), and it runs one query at a time, each after the last one's answer. Run
 * directly, statements that do not wait on each other's results go out together, and
 * PostgreSQL's driver (in pipeline mode) sends them without waiting: one round trip where there
 * were several. Elsewhere (rare writes) they go through Kysely.
 */
export async function bindConnection(handle: Handle): Promise<DatabaseConnection> {
  let connection = bound.get(handle);
  if (!connection) bound.set(handle, (connection = await handle.getExecutor().provideConnection(async (held) => held)));
  return connection;
}

/**
 * One compiled query per row count, for multi-row statements, kept for counts up to `max`;
 * larger ones are built each time. `build` makes the query for `n` rows.
 */
export function compiledPerCount<R>(max: number, build: (db: Handle, n: number) => Compilable<R>) {
  const perCount = new Map<number, ReturnType<typeof compiled<R>>>();
  return (db: Handle, n: number, values: Values): Promise<QueryResult<R>> => {
    if (n > max) return compiled<R>((handle) => build(handle, n))(db, values);
    let query = perCount.get(n);
    if (!query) perCount.set(n, (query = compiled<R>((handle) => build(handle, n))));
    return query(db, values);
  };
}

/** A batch's column: its name in the statement, and its SQL type (`text`, `integer`, `bigint`). */
export type BatchColumn = readonly [name: string, type: 'text' | 'integer' | 'bigint'];

/**
 * A write over a batch of rows of any size. `build` gets the batch two ways: `rows`, a table
 * expression (for `insert into t (${columns}) ${rows}`), and `v`, a common table expression
 * `v(<columns>) as (<rows>)` (for `with ${v} update …`); then the column list, and the slots of
 * the values that follow the rows.
 *
 * PostgreSQL gets one array per column (`unnest`): one statement whatever the batch, prepared
 * and planned once per connection. With a `values` row per result, every batch size was a new
 * statement of ~900 parameters, built by Kysely, then parsed and planned by the server, at a
 * worker's every write. SQLite, which has no arrays, gets `values` rows, in chunks of at most
 * `chunk`, each count compiled once.
 */
export function compiledBatch(
  columns: readonly BatchColumn[],
  build: (batch: { rows: RawBuilder<unknown>; v: RawBuilder<unknown>; columns: RawBuilder<unknown>; extra: (i: number) => never }) => RawBuilder<unknown>,
  chunk = 32,
) {
  const columnList = sql.join(columns.map(([name]) => sql.ref(name)));
  const statement = (rows: RawBuilder<unknown>, firstExtra: number) =>
    build({ rows, v: sql`v(${columnList}) as (${rows})`, columns: columnList, extra: (i) => slot(firstExtra + i) });
  const arrays = compiled((db) => ({
    compile: () => statement(sql`select * from unnest(${sql.join(columns.map(([, type], c) => sql`cast(${slot(c)} as ${sql.raw(type)}[])`))})`, columns.length).compile(db),
  }));
  const rows = compiledPerCount(chunk, (db, n) => ({
    compile: () => {
      const cell = (i: number, c: number) => (columns[c]![1] === 'text' ? sql`${slot(i * columns.length + c)}` : sql`cast(${slot(i * columns.length + c)} as ${sql.raw(columns[c]![1])})`);
      const values = sql.join(Array.from({ length: n }, (_, i) => sql`(${sql.join(columns.map((_, c) => cell(i, c)))})`));
      return statement(sql`values ${values}`, n * columns.length).compile(db);
    },
  }));
  return async (db: Handle, batch: ReadonlyArray<readonly unknown[]>, extra: readonly unknown[] = []): Promise<void> => {
    if (batch.length === 0) return;
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      await arrays(db, [...columns.map((_, c) => arrayParameter(batch.map((row) => row[c]))), ...extra]);
      return;
    }
    for (let i = 0; i < batch.length; i += chunk) {
      const n = Math.min(chunk, batch.length - i);
      await rows(db, n, flatten(batch, i, n, extra));
    }
  };
}

/**
 * Rows `from`..`from + n` of `batch` cell by cell, then `extra`: the values of one SQLite chunk.
 * A loop, not `[...part.flat(), ...extra]`: V8's `flat` took ~100 µs per chunk of 32 rows of 13
 * cells (~3 µs a row, measured alone), the largest JavaScript line in the main thread's profile at
 * saturation; this takes ~5.
 */
function flatten(batch: ReadonlyArray<readonly unknown[]>, from: number, n: number, extra: readonly unknown[]): unknown[] {
  const values: unknown[] = [];
  for (let r = from; r < from + n; r++) {
    const row = batch[r]!;
    for (let c = 0; c < row.length; c++) values.push(row[c]);
  }
  for (let e = 0; e < extra.length; e++) values.push(extra[e]);
  return values;
}

import { sql } from 'kysely';
import type { StoreContext } from './context.js';

/**
 * PostgreSQL's statistics, where autovacuum does not keep them.
 *
 * PostgreSQL plans a statement from its tables' statistics, which autovacuum refreshes (its
 * autoanalyze) as the tables change. A connection prepares each of our statements once
 * (dialects/postgres.ts) and, after five runs, may keep one generic plan until the statistics of
 * a table it reads change. Where autovacuum is off (for the server, or for a table), they never
 * do, and a plan chosen while the tables were nearly empty stays as they grow: without
 * statistics the planner cannot tell an index on `account_id` alone from a unique key, and ties.
 * On this machine's server (autovacuum off), a fresh schema with one account, 600 contacts and a
 * message each (1,800 deliveries, their results written as they came) read 1.6 million entries
 * of `deliveries`' indexes, 0.9 million of `contacts`' and 1.1 million of `events`', each call
 * walking the account's rows: the results' update through `(account_id, id)` on `account_id`
 * alone, a contact by id or username through `(account_id, seq)`, the events list. Refreshed by
 * the rule below as it went: 46,000, 26,000 and 31,000, most before the first analysis. The
 * benchmark's PostgreSQL latency scenario (11,000 deliveries) read 23 and 28 million in two runs.
 * pinned.ts prices whole-table scans out, but cannot choose between two indexes.
 *
 * So a worker does autoanalyze's part for Protocol's own tables that autovacuum leaves alone,
 * with the server's own thresholds; where autovacuum runs, it finds nothing to do.
 */

/** A table's size and changes, as `pg_stat_user_tables` and `pg_class` have them. */
export interface TableActivity {
  name: string;
  /** Rows at the last analysis (0 if never analyzed). */
  rows: number;
  /** Rows inserted, updated or deleted since. */
  changed: number;
  /** Whether autovacuum looks after it: on for the server and not turned off for the table. */
  autovacuumed: boolean;
}

/** Autoanalyze's rule: a table is analyzed once the rows changed since exceed `rows + fraction × its rows`. */
export interface AnalyzeThresholds {
  rows: number;
  fraction: number;
}

/** PostgreSQL's defaults (`autovacuum_analyze_threshold`, `autovacuum_analyze_scale_factor`). */
export const AUTOANALYZE: AnalyzeThresholds = { rows: 50, fraction: 0.1 };

/** The tables autoanalyze would analyze now, were it running for them. */
export function dueForAnalyze(tables: readonly TableActivity[], thresholds: AnalyzeThresholds = AUTOANALYZE): string[] {
  return tables.filter((t) => !t.autovacuumed && t.changed > thresholds.rows + thresholds.fraction * t.rows).map((t) => t.name);
}

export function statisticsStore(ctx: StoreContext) {
  const { db } = ctx;
  return {
    /**
     * Analyzes the tables of this schema that are due by autoanalyze's rule and that autovacuum
     * leaves alone; returns their names. An analysis also makes every connection plan the
     * table's statements afresh. Nothing on SQLite, whose planner has no such statistics to lose.
     */
    async refresh(): Promise<string[]> {
      if (ctx.database.dialect !== 'postgres') return [];
      const { rows } = await sql<TableActivity & { threshold: number; fraction: number }>`
        select s.relname as name, greatest(c.reltuples, 0)::float8 as rows, s.n_mod_since_analyze::float8 as changed,
          current_setting('autovacuum')::boolean
            and coalesce((select o.option_value::boolean from pg_options_to_table(c.reloptions) o where o.option_name = 'autovacuum_enabled'), true) as autovacuumed,
          current_setting('autovacuum_analyze_threshold')::float8 as threshold,
          current_setting('autovacuum_analyze_scale_factor')::float8 as fraction
        from pg_stat_user_tables s join pg_class c on c.oid = s.relid
        where s.schemaname = current_schema()
        order by s.relname`.execute(db);
      if (rows.length === 0) return [];
      const due = dueForAnalyze(rows, { rows: rows[0]!.threshold, fraction: rows[0]!.fraction });
      // SKIP_LOCKED: a table another worker is analyzing right now is skipped, not waited for.
      for (const name of due) await sql`analyze (skip_locked) ${sql.table(name)}`.execute(db);
      return due;
    },
  };
}

// The targets as data, and the verdict on one run's figures: every report ends with them,
// so a run can be read against the targets without the README beside it. Ratios are judged by
// their median over the rounds; the bare loops' figures beside them are the anchors the issue
// names (a product that does more than the bare loop can only come close to it).
import { fmt, spread } from './measure.js';

/** What one run measured, by the name of the target it is judged against; absent when not run. */
export type Measured = Partial<Record<TargetName, number>>;

export type TargetName =
  | 'sqliteXL0'
  | 'sqliteXBullmq'
  | 'postgresXL0'
  | 'sqliteP99At500'
  | 'sqliteP99At2000'
  | 'ingest'
  | 'fanoutCommitMs'
  | 'fanoutCommitMsPostgres'
  | 'backlogRssMb'
  | 'backlogApiP99'
  | 'backlogSteadiness';

export interface Target {
  name: TargetName;
  label: string;
  /** Met when the figure is at least (`min`) or below (`max`, strictly when `strict`) this bound. */
  bound: { min: number } | { max: number; strict?: boolean };
  unit: string;
  /** Decimals shown. */
  digits: number;
  /** The same figure for the anchor the issue gives (the bare loop), shown beside it when measured. */
  anchor?: AnchorName;
}

export type AnchorName = 'bareSqliteXL0' | 'bareSqliteXBullmq' | 'barePostgresXL0' | 'bareSqliteP99At500' | 'bareSqliteP99At2000';

export const TARGETS: readonly Target[] = [
  { name: 'sqliteXL0', label: 'Throughput on SQLite × L0', bound: { min: 0.7 }, unit: '×', digits: 2, anchor: 'bareSqliteXL0' },
  { name: 'sqliteXBullmq', label: 'Throughput on SQLite × BullMQ', bound: { min: 2.5 }, unit: '×', digits: 2, anchor: 'bareSqliteXBullmq' },
  { name: 'postgresXL0', label: 'Throughput on PostgreSQL (2 workers) × L0', bound: { min: 0.4 }, unit: '×', digits: 2, anchor: 'barePostgresXL0' },
  { name: 'sqliteP99At500', label: 'Latency on SQLite, p99 at 500 changes/s', bound: { max: 15 }, unit: 'ms', digits: 1, anchor: 'bareSqliteP99At500' },
  { name: 'sqliteP99At2000', label: 'Latency on SQLite, p99 at 2,000 changes/s', bound: { max: 25 }, unit: 'ms', digits: 1, anchor: 'bareSqliteP99At2000' },
  { name: 'ingest', label: 'API ingest on SQLite, `POST /v1/messages`', bound: { min: 3000 }, unit: '/s', digits: 0 },
  { name: 'fanoutCommitMs', label: 'Fan-out to 10,000 webhooks: the change commits', bound: { max: 500, strict: true }, unit: 'ms', digits: 0 },
  // The fan-out bound, held on PostgreSQL too (it names no database for it).
  { name: 'fanoutCommitMsPostgres', label: 'Fan-out to 10,000 webhooks on PostgreSQL: the change commits', bound: { max: 500, strict: true }, unit: 'ms', digits: 0 },
  { name: 'backlogRssMb', label: 'Backlog: worker RSS, the most during any drain', bound: { max: 300, strict: true }, unit: 'MB', digits: 0 },
  { name: 'backlogApiP99', label: "Backlog: the API's p99 during the drain", bound: { max: 50, strict: true }, unit: 'ms', digits: 1 },
  // "A steady drain rate" has no number in the issue: steady here means no 10 s window below half the median one.
  { name: 'backlogSteadiness', label: 'Backlog: the slowest 10 s window ÷ the median one (steady: ≥ 0.5)', bound: { min: 0.5 }, unit: '', digits: 2 },
];

export type Anchors = Partial<Record<AnchorName, number>>;

export interface Verdict {
  target: Target;
  value: number;
  met: boolean;
  anchor?: number;
}

/** The verdict on every target this run measured, in the order. */
export function judge(measured: Measured, anchors: Anchors = {}): Verdict[] {
  return TARGETS.flatMap((target) => {
    const value = measured[target.name];
    if (value === undefined || !Number.isFinite(value)) return [];
    return [{ target, value, met: meets(target, value), anchor: target.anchor === undefined ? undefined : anchors[target.anchor] }];
  });
}

function meets({ bound }: Target, value: number): boolean {
  return 'min' in bound ? value >= bound.min : bound.strict ? value < bound.max : value <= bound.max;
}

/** What the targets judge of one backlog drain (a drain as `bench/run.ts` measures it). */
export interface Drain {
  rss: { max: number };
  api: { p99: number };
  /** The slowest 10 s window ÷ the median one; absent for a drain shorter than two windows. */
  steadiness?: number;
}

/** The steadiness of each drain long enough to have one. */
export const steadinessOf = (drains: readonly Drain[]): number[] => drains.flatMap((d) => (d.steadiness === undefined ? [] : [d.steadiness]));

/**
 * The backlog's figures over several drains: RSS the most any drain reached, since its bound
 * holds throughout; the API's p99 and the steadiness their medians, as every other target.
 */
export function backlogFigures(drains: readonly Drain[]): Required<Pick<Measured, 'backlogRssMb' | 'backlogApiP99'>> & Pick<Measured, 'backlogSteadiness'> {
  const steadiness = steadinessOf(drains);
  return {
    backlogRssMb: Math.max(...drains.map((d) => d.rss.max)),
    backlogApiP99: spread(drains.map((d) => d.api.p99)).median,
    ...(steadiness.length > 0 && { backlogSteadiness: spread(steadiness).median }),
  };
}

/** A figure as the report shows it, with the target's unit: `0.52×`, `2,933/s`, `10.2 ms`. */
export function figure(target: Target, n: number, digits = target.digits): string {
  const unit = /^[a-z]/i.test(target.unit) ? ` ${target.unit}` : target.unit;
  return `${fmt(n, digits)}${unit}`;
}

/**
 * A verdict's figure, with as many more decimals as it takes to read as its verdict: a median of
 * 0.697 shown as `0.70×` beside `≥ 0.7×` and "not met" looked like a wrong verdict (T2016). The
 * check reads the figure as `fmt` rounds it, not as `toFixed` would: the two differ (0.695 is
 * `0.69` to one and `0.70` to the other). A value closer to its bound than the last decimal
 * allowed is cut toward its own side of the bound, so that the figure cannot cross it.
 */
export function verdictFigure({ target, value, met }: Pick<Verdict, 'target' | 'value' | 'met'>): string {
  const most = target.digits + 3;
  for (let digits = target.digits; digits <= most; digits++) {
    if (meets(target, Number(fmt(value, digits).replaceAll(',', ''))) === met) return figure(target, value, digits);
  }
  const { bound } = target;
  const scale = 10 ** most;
  const cut = value < ('min' in bound ? bound.min : bound.max) ? Math.floor : Math.ceil;
  return figure(target, cut(value * scale) / scale, most);
}

/** How a bound reads in the report: `≥ 0.7×`, `< 500 ms`. */
export function boundText(target: Target): string {
  const { bound } = target;
  const sign = 'min' in bound ? '≥' : bound.strict ? '<' : '≤';
  const n = 'min' in bound ? bound.min : bound.max;
  return `${sign} ${figure(target, n, Number.isInteger(n) ? 0 : 1)}`;
}

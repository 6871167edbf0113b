// Numbers: percentiles, medians with ranges, and per-process CPU and memory from /proc.
import fs from 'node:fs';

export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function latencySummary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN, n: sorted.length };
}

/** Median and range of repeated runs. */
export function spread(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
}

export const TICKS = 100; // USER_HZ on Linux

/** CPU time (user + system) a process has used, in ticks; of one of its threads when `thread` is given. */
export function cpuTicks(pid: number, thread?: number): number {
  const fields = fs.readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Resident memory now. */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU use of a set of processes over a window, as % of one core each. */
export function cpuMeter(pids: Record<string, number>) {
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuTicks(pid)]));
  const started = now();
  return () => {
    const seconds = (now() - started) / 1000;
    return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, { cpu: ((cpuTicks(pid) - start[name]!) / TICKS / seconds) * 100, peakRssMb: peakRssMb(pid) }]));
  };
}

export type ProcessUsage = Record<string, { cpu: number; peakRssMb: number }>;

/** The whole machine's busy and total CPU ticks (all cores, every process: databases, Redis, the bench itself). */
function machineTicks(): { busy: number; total: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, n) => sum + n, 0);
  return { busy: total - fields[3]! - fields[4]!, total }; // less idle and iowait
}

/**
 * The machine's CPU over a window, everything included: per unit of work (µs) it compares
 * systems whose work is spread over different processes (a database server, Redis), and it moves
 * less with the machine's speed than rates do.
 */
export function machineMeter() {
  const start = machineTicks();
  return (units: number) => {
    const end = machineTicks();
    const busy = end.busy - start.busy;
    return { usPerUnit: ((busy / TICKS) * 1e6) / units, busyPercent: (100 * busy) / (end.total - start.total) };
  };
}

/**
 * A figure as the reports print it. One that rounds to zero prints as 0, unsigned: a latency from
 * acknowledgement to receipt can be a few µs below zero (the delivery handed over at the commit
 * reaches the receiver as the API's answer reaches the producer), and `-0.0` read as a defect.
 */
export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? (Math.abs(n) < 0.5 / 10 ** digits ? 0 : n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—';
/** A spread as every report shows one: `median[unit] [min–max]`. */
export const fmtSpread = (s: { median: number; min: number; max: number }, digits = 0, unit = '') => `${fmt(s.median, digits)}${unit} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]`;

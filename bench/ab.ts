// `npm run bench:ab`: two systems side by side, at the same time and the same steady rate, and
// the CPU each spends per delivery. The machine's speed drifts between runs by up to 2× here
// (other tenants), which buries a 10% change under alternating runs; measured over the same
// window, both sides see the same machine. Each side has its own receiver and database.
//
//   --a=<checkout> --b=<checkout>   a built checkout's `protocol` (default: this one)
//   --a-env=K=V,K=V --b-env=…       added to that side's environment (settings, NODE_OPTIONS);
//                                   BENCH_NODE_ARGS=<flags> passes flags NODE_OPTIONS refuses (V8's)
//   --b-system=bare                 the bare loop instead of Protocol (either side): SQLite's, or
//                                   with --database=postgres PostgreSQL's (1 producer, 2 workers); it
//                                   takes no checkout or env of its own
//   --database=postgres             Protocol on PostgreSQL (1 API + 2 workers), with the CPU of
//                                   the server processes serving each side's connections (by
//                                   application_name; a connection closed mid-window is lost)
//   --workers=2                     PostgreSQL: Protocol's worker processes beside its API; 0 runs
//                                   one `protocol serve` with its own worker, as `npm start` does
//   --rate=120 --seconds=10 --rounds=3
// The rate must be one both sides keep up with at once: each row gives the deliveries measured,
// which should be rate × seconds × 20. Identical sides measured B/A = 0.96–0.99 (3 rounds), so
// differences below ~5% need more rounds.
//
//   --saturated [--changes=8000 --warm-up=4000]
// Throughput instead, as the bench's throughput scenario measures it: each side alone, one after
// the other (A first in odd rounds), `changes` × 20 deliveries as fast as they go after a warm-up,
// and the ratio of deliveries per second. Neighbouring runs share most of the machine's drift, not
// all: identical sides measured 0.97–1.12 over 4 rounds (session 18), so it takes many rounds.
import fs from 'node:fs';
import path from 'node:path';
import { cpuTicks, fmt, fmtSpread, sleep, spread, TICKS } from './measure.js';
import { measureThroughput, startPostgresLoop, startProtocol, startReceiver, startSqliteLoop, type Running } from './systems.js';

const OPTIONS = ['a', 'b', 'a-env', 'b-env', 'a-system', 'b-system', 'database', 'workers', 'rate', 'seconds', 'rounds', 'saturated', 'changes', 'warm-up'];
/** Bad options stop the run before anything starts, with what was wrong. */
function usage(problem: string): never {
  console.error(`bench:ab: ${problem}\nOptions: ${OPTIONS.map((o) => (o === 'saturated' ? '--saturated' : `--${o}=…`)).join(' ')} (see bench/ab.ts)`);
  process.exit(2);
}
for (const arg of process.argv.slice(2)) if (arg !== '--saturated' && !OPTIONS.some((o) => o !== 'saturated' && arg.startsWith(`--${o}=`))) usage(`unknown option ${arg}`);
const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const count = (name: string, fallback: number, whole = false) => {
  const value = Number(option(name) ?? fallback);
  return Number.isFinite(value) && value > 0 && (!whole || Number.isInteger(value)) ? value : usage(`--${name} must be a positive ${whole ? 'whole ' : ''}number, not ${option(name)}`);
};
const oneOf = <T extends string>(name: string, values: readonly T[]): T => {
  const value = option(name) ?? values[0]!;
  return (values as readonly string[]).includes(value) ? (value as T) : usage(`--${name} must be one of ${values.join(', ')}, not ${value}`);
};
const RATE = count('rate', 120); // changes/s per side, × 20 webhooks
const SECONDS = count('seconds', 10);
const ROUNDS = count('rounds', 3, true);
const WEBHOOKS = 20;
const SATURATED = process.argv.includes('--saturated');
if (!SATURATED && (option('changes') ?? option('warm-up')) !== undefined) usage('--changes and --warm-up are for --saturated');
if (SATURATED && (option('rate') ?? option('seconds')) !== undefined) usage('--rate and --seconds are for the steady mode, not --saturated');
const CHANGES = count('changes', 8000, true);
const WARM_UP = count('warm-up', 4000, true);
const database = oneOf('database', ['sqlite', 'postgres'] as const);
// Digits only: Number('') is 0, and `--workers=` must not quietly mean serve with its own worker.
if (!/^\d+$/.test(option('workers') ?? '2')) usage(`--workers must be a whole number (0: serve with its own worker), not ${option('workers')}`);
const WORKERS = Number(option('workers') ?? 2);
if (option('workers') !== undefined && database !== 'postgres') usage('--workers is for --database=postgres (on SQLite, serve runs the worker)');

interface Side {
  name: 'A' | 'B';
  root?: string;
  env: Record<string, string>;
  system: 'protocol' | 'bare';
}
const side = (name: 'A' | 'B'): Side => {
  const key = name.toLowerCase();
  const system = oneOf(`${key}-system`, ['protocol', 'bare'] as const);
  // The bare loops are the bench's own scripts: a checkout or an environment would be ignored, and
  // a side reported as run with them would not have been. Refused before either is looked at, so
  // the combination is what the message names, whatever the checkout holds.
  if (system === 'bare' && (option(key) !== undefined || option(`${key}-env`) !== undefined)) {
    usage(`--${key}-system=bare runs the bench's own loop: --${key} and --${key}-env are for Protocol`);
  }
  const root = option(key) && path.resolve(option(key)!);
  if (root && !fs.existsSync(path.join(root, 'packages/server/dist/cli/main.js'))) usage(`--${key}=${root} is not a built checkout (no packages/server/dist)`);
  const pairs = (option(`${key}-env`) ?? '').split(',').filter(Boolean);
  for (const kv of pairs) if (kv.indexOf('=') < 1) usage(`--${key}-env takes NAME=value pairs separated by commas, not ${kv}`);
  const env = Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { name, root, env, system };
};
const sides = [side('A'), side('B')] as const;

/** CPU ticks of a system's processes (all their threads, and their main threads alone), and of its database server's processes by pid. */
async function snapshot(system: Running) {
  const pids = Object.values(system.pids);
  const server = new Map<number, number>();
  for (const pid of (await system.databasePids?.()) ?? []) {
    try {
      server.set(pid, cpuTicks(pid));
    } catch {
      // It exited meanwhile.
    }
  }
  return { all: pids.reduce((sum, pid) => sum + cpuTicks(pid), 0), main: pids.reduce((sum, pid) => sum + cpuTicks(pid, pid), 0), server };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;
/** Ticks between two snapshots. A server process that started meanwhile counts from 0; one that exited meanwhile is lost. */
const spent = (before: Snapshot, after: Snapshot) => ({
  all: after.all - before.all,
  main: after.main - before.main,
  server: [...after.server].reduce((sum, [pid, ticks]) => sum + ticks - (before.server.get(pid) ?? 0), 0),
});

const receivers = await Promise.all(sides.map(() => startReceiver()));
/** Starts side i on a receiver of its own, cleared of the round before. */
async function start(i: number): Promise<Running> {
  const s = sides[i]!;
  const receiver = receivers[i]!;
  receiver.send({ type: 'reset' });
  const system =
    s.system === 'bare'
      ? await (database === 'postgres' ? startPostgresLoop : startSqliteLoop)({ receiverUrl: receiver.url, webhooks: WEBHOOKS })
      : await startProtocol({ receiverUrl: receiver.url, webhooks: WEBHOOKS, database, workers: WORKERS, root: s.root, env: s.env });
  receiver.send({ type: 'secrets', secrets: system.secrets });
  return system;
}

const ratios: number[] = [];
const shape = database === 'sqlite' ? '' : WORKERS > 0 ? ` (Protocol: 1 API + ${WORKERS} workers)` : ' (Protocol: one serve process, API and worker)';
console.log(
  SATURATED
    ? `# A/B, saturated: ${CHANGES} changes × ${WEBHOOKS} webhooks per run after ${WARM_UP} of warm-up, each side alone, ${ROUNDS} round(s), ${database}${shape}`
    : `# A/B: ${RATE} changes/s × ${WEBHOOKS} webhooks per side for ${SECONDS} s, ${ROUNDS} round(s), ${database}${shape}`,
);
for (const s of sides) console.log(`${s.name}: ${s.system === 'bare' ? `bare ${database === 'postgres' ? 'PostgreSQL' : 'SQLite'} loop` : `protocol from ${s.root ?? 'this checkout'}`}${Object.keys(s.env).length ? ` with ${JSON.stringify(s.env)}` : ''}`);
try {
  if (SATURATED) await saturatedRounds();
  else await steadyRounds();
} finally {
  receivers.forEach((r) => r.kill());
}

/** Both sides at once at one steady rate: the CPU each spends per delivery. */
async function steadyRounds() {
  const parts = database === 'postgres' ? 'main threads; database server' : 'main thread';
  console.log(`\n| round | A: CPU per delivery (${parts}) | B: CPU per delivery (${parts}) | B / A |\n|---|---|---|---|`);
  for (let round = 1; round <= ROUNDS; round++) {
    // Started in turn (A first in odd rounds) so neither side always gets the warmer start.
    const order = round % 2 ? [0, 1] : [1, 0];
    const systems: Running[] = [];
    try {
      for (const i of order) systems[i] = await start(i);
      const both = (changes: number) => Promise.all(systems.map((system) => system.produce(changes, { rate: RATE })));
      /** Until every delivery made so far has arrived (at most 30 s): a window must hold its own deliveries, not stragglers of the one before. */
      const arrived = async (changes: number) => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const counts = await Promise.all(receivers.map((r) => r.count()));
          if (counts.every((c) => c.count >= changes * WEBHOOKS) || Date.now() > deadline) return counts;
          await sleep(20);
        }
      };
      await both(RATE); // a second of warm-up (JIT, prepared statements, connections), not measured
      const before = await arrived(RATE);
      const cpuBefore = await Promise.all(systems.map(snapshot));
      await both(RATE * SECONDS);
      const after = await arrived(RATE * (SECONDS + 1)); // the window's last deliveries
      const cpuAfter = await Promise.all(systems.map(snapshot));
      if (after.some((a) => a.bad > 0)) throw new Error('deliveries failed the receiver\'s signature check');
      const perDelivery = systems.map((_, i) => {
        const delivered = after[i]!.count - before[i]!.count;
        const ticks = spent(cpuBefore[i]!, cpuAfter[i]!);
        const us = (n: number) => ((n / TICKS) * 1e6) / delivered;
        return { total: us(ticks.all + ticks.server), main: us(ticks.main), server: us(ticks.server), delivered };
      });
      const [a, b] = perDelivery as [(typeof perDelivery)[0], (typeof perDelivery)[0]];
      const cell = (x: typeof a) => `${fmt(x.total, 1)} µs (${fmt(x.main, 1)}${database === 'postgres' ? `; ${fmt(x.server, 1)}` : ''}), ${fmt(x.delivered)} deliveries`;
      ratios.push(b.total / a.total);
      console.log(`| ${round} | ${cell(a)} | ${cell(b)} | ${fmt(b.total / a.total, 3)} |`);
    } finally {
      // Whichever side started (the other may have failed to): a process left running would keep this one alive.
      await Promise.all(systems.filter(Boolean).map((system) => system.stop()));
    }
  }
  const r = spread(ratios);
  console.log(`\nB / A, CPU per delivery: ${fmtSpread(r, 3)}`);
}

/** Each side alone in turn, as fast as it goes: deliveries per second, and the machine's CPU per delivery. */
async function saturatedRounds() {
  console.log('\n| round | A: throughput (machine CPU per delivery, busy) | B: throughput (machine CPU per delivery, busy) | B / A |\n|---|---|---|---|');
  const run = async (i: number) => {
    const system = await start(i);
    try {
      return await measureThroughput(system, receivers[i]!, { warmUp: WARM_UP, changes: CHANGES, webhooks: WEBHOOKS });
    } finally {
      await system.stop();
    }
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const results = [];
    for (const i of round % 2 ? [0, 1] : [1, 0]) results[i] = await run(i);
    const [a, b] = results as [Awaited<ReturnType<typeof run>>, Awaited<ReturnType<typeof run>>];
    const cell = (x: typeof a) => `${fmt(x.perSecond)}/s, ${fmt(x.delivered)} deliveries (${fmt(x.machine.usPerUnit)} µs, ${fmt(x.machine.busyPercent)}%)`;
    ratios.push(b.perSecond / a.perSecond);
    console.log(`| ${round} | ${cell(a)} | ${cell(b)} | ${fmt(b.perSecond / a.perSecond, 3)} |`);
  }
  const r = spread(ratios);
  console.log(`\nB / A, deliveries per second: ${fmtSpread(r, 3)}`);
}

// `npm run bench:ab`'s smoke runs (tiny N, one round): two systems side by side, each side's
// environment, the PostgreSQL variant, and its refusals. Apart from the bench's own smoke run
// (bench.test.ts), so that neither file nears the test runner's time limit on a slow machine.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runBench } from './smoke.js';

test('npm run bench:ab measures two systems side by side and reports their ratio', () => {
  const result = runBench('bench/ab.ts', ['--rate=20', '--seconds=1', '--rounds=1', '--b-system=bare', '--a-env=PROTOCOL_LOG_LEVEL=warn']);
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /^A: protocol from this checkout with \{"PROTOCOL_LOG_LEVEL":"warn"\}$/m);
  assert.match(result.stdout, /^B: bare SQLite loop$/m);
  const row = /^\| 1 \| ([\d.,]+) µs \([\d.,]+\), ([\d,]+) deliveries \| ([\d.,]+) µs \([\d.,]+\), ([\d,]+) deliveries \| ([\d.]+) \|$/m.exec(result.stdout);
  assert.ok(row, result.stdout);
  const [, aUs, aDelivered, bUs, bDelivered, ratio] = row.map((cell) => Number(cell?.replace(/,/g, '')));
  // Every change of the measured second arrived on both sides (20 changes × 20 webhooks), each at a CPU cost.
  assert.equal(aDelivered, 400);
  assert.equal(bDelivered, 400);
  assert.ok(aUs! > 0 && bUs! > 0);
  assert.ok(Math.abs(ratio! - bUs! / aUs!) < 0.01, 'the ratio is B over A');
  assert.match(result.stdout, /^B \/ A, CPU per delivery: [\d.]+ \[[\d.]+–[\d.]+\]$/m);
});

test('npm run bench:ab --saturated runs each side alone, as fast as it goes, and reports the ratio of their throughputs', () => {
  const result = runBench('bench/ab.ts', ['--saturated', '--changes=20', '--warm-up=5', '--rounds=1', '--b-system=bare']);
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /^# A\/B, saturated: 20 changes × 20 webhooks per run after 5 of warm-up, each side alone, 1 round\(s\), sqlite$/m);
  const row = /^\| 1 \| ([\d,]+)\/s, ([\d,]+) deliveries \(([\d,]+) µs, \d+%\) \| ([\d,]+)\/s, ([\d,]+) deliveries \(([\d,]+) µs, \d+%\) \| ([\d.]+) \|$/m.exec(result.stdout);
  assert.ok(row, result.stdout);
  const [, aRate, aDelivered, aUs, bRate, bDelivered, bUs, ratio] = row.map((cell) => Number(cell?.replace(/,/g, '')));
  // The measured run's deliveries, the warm-up's not counted: 20 changes × 20 webhooks on each side.
  assert.equal(aDelivered, 400);
  assert.equal(bDelivered, 400);
  assert.ok(aRate! > 0 && bRate! > 0 && aUs! > 0 && bUs! > 0);
  assert.ok(Math.abs(ratio! - bRate! / aRate!) < 0.01 * ratio!, 'the ratio is B over A');
  assert.match(result.stdout, /^B \/ A, deliveries per second: [\d.]+ \[[\d.]+–[\d.]+\]$/m);
});

test('npm run bench:ab hands each side its own environment and Node flags, and stops at once when a side cannot start', () => {
  // Each case makes B's `protocol serve` refuse to start, and that it says so proves what reached
  // B's process: an invalid setting its environment, and an unknown flag in BENCH_NODE_ARGS node's
  // own command line (V8's flags cannot go through NODE_OPTIONS). A (started first in round 1)
  // must be stopped, not left running: stopping it removes its data directory, which a process
  // left behind would keep. Its own temporary directory: the bench's other smoke run (another
  // test file) makes and removes its directories in the shared one meanwhile.
  for (const [env, refusal] of [
    ['PROTOCOL_LOG_LEVEL=loud', /PROTOCOL_LOG_LEVEL="loud" is invalid/],
    ['BENCH_NODE_ARGS=--no-such-flag', /bad option: --no-such-flag/],
  ] as const) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-test-'));
    try {
      const benchDirs = () => fs.readdirSync(tmp).filter((name) => name.startsWith('protocol-bench-'));
      const result = runBench('bench/ab.ts', ['--rate=20', '--seconds=1', '--rounds=1', `--b-env=${env}`], 60_000, { TMPDIR: tmp });
      assert.equal(result.signal, null, 'it exited by itself, not by the timeout');
      assert.equal(result.status, 1);
      assert.match(result.stderr, refusal);
      assert.doesNotMatch(result.stdout, /^\| 1 \|/m, 'no round was reported');
      assert.deepEqual(benchDirs(), [], 'side A was stopped and its directory removed');
    } finally {
      // Also when an assertion failed: a side left behind keeps its directory here.
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
});

test('npm run bench:ab on PostgreSQL counts the database server processes that serve each side', () => {
  // Protocol as `npm start` runs it (one serve, its own worker): 1 API + 2 workers is the bench's own smoke run's.
  const result = runBench('bench/ab.ts', ['--database=postgres', '--workers=0', '--rate=20', '--seconds=1', '--rounds=1', '--b-system=bare']);
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /^# A\/B: .*, postgres \(Protocol: one serve process, API and worker\)$/m);
  assert.match(result.stdout, /^B: bare PostgreSQL loop$/m);
  const row = /^\| 1 \| ([\d.,]+) µs \([\d.,]+; ([\d.,]+)\), ([\d,]+) deliveries \| ([\d.,]+) µs \([\d.,]+; ([\d.,]+)\), ([\d,]+) deliveries \| [\d.]+ \|$/m.exec(result.stdout);
  assert.ok(row, result.stdout);
  const [, aTotal, aServer, aDelivered, bTotal, bServer, bDelivered] = row.map((cell) => Number(cell?.replace(/,/g, '')));
  assert.equal(aDelivered, 400);
  assert.equal(bDelivered, 400);
  // Each side's server processes (found by the connections' application_name) did work, and it is part of the total.
  assert.ok(aServer! > 0 && bServer! > 0, 'the database server worked for both sides');
  assert.ok(aTotal! > aServer! && bTotal! > bServer!);
});

test('npm run bench:ab refuses bad options before it starts anything', () => {
  for (const [arg, message] of [
    ['--rate=fast', /--rate must be a positive number, not fast/],
    ['--rounds=1.5', /--rounds must be a positive whole number/],
    ['--b-system=bulk', /--b-system must be one of protocol, bare, not bulk/],
    ['--database=mysql', /--database must be one of sqlite, postgres/],
    ['--workers=-1', /--workers must be a whole number \(0: serve with its own worker\), not -1/],
    ['--workers=', /--workers must be a whole number \(0: serve with its own worker\), not $/m],
    ['--workers=1', /--workers is for --database=postgres/],
    ['--b=/nonexistent', /--b=\/nonexistent is not a built checkout/],
    ['--a-env=NOEQUALS', /--a-env takes NAME=value pairs/],
    ['--b-system=bare --b-env=BENCH_NODE_ARGS=--single-threaded-gc', /--b-system=bare runs the bench's own loop: --b and --b-env are for Protocol/],
    ['--a-system=bare --a=.', /--a-system=bare runs the bench's own loop/],
    ['--b-system=bare --b=/nonexistent', /--b-system=bare runs the bench's own loop/], // the combination, not the checkout
    ['--ratee=3', /unknown option --ratee=3/],
    ['--saturated=1', /unknown option --saturated=1/],
    ['--changes=100', /--changes and --warm-up are for --saturated/],
    ['--saturated --rate=60', /--rate and --seconds are for the steady mode, not --saturated/],
    ['--saturated --changes=0', /--changes must be a positive whole number/],
  ] as const) {
    const result = runBench('bench/ab.ts', arg.split(' '), 30_000);
    assert.equal(result.status, 2, `${arg}: ${result.stderr}`);
    assert.match(result.stderr, message, arg);
    assert.equal(result.stdout, '', `${arg}: nothing ran`);
  }
});

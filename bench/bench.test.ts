// The benchmark's smoke run (tiny N, one run each), so it cannot rot: every system starts,
// delivers everything verified, and every section of the report has figures.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Runs one of the bench's scripts from source, as `npm run bench` does, and waits for it. */
const runBench = (file: string, args: string[], timeout = 120_000) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file, ...args], { cwd: ROOT, encoding: 'utf8', timeout });

test('npm run bench -- --quick measures every system and writes its report', () => {
  const result = runBench('bench/run.ts', ['--quick'], 240_000);
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  const report = fs.readFileSync(new URL('./results/smoke.md', import.meta.url), 'utf8');
  for (const system of ['L0', 'Bare SQLite loop (no API)', 'Protocol (SQLite)', 'Bare PostgreSQL loop (no API, 2 workers)', 'Protocol (PostgreSQL, 1 API + 2 workers)', 'BullMQ']) {
    const row = report.split('\n').find((line) => line.startsWith(`| ${system} | `));
    assert.ok(row, `${system} has a throughput row`);
    assert.match(row!, /^\| [^|]+ \| [\d,]+ \[/, `${system} delivered at a measurable rate`);
    assert.match(row!, /\| [\d,]+ µs \(\d+%\) \|/, `${system} has the machine's CPU per delivery`);
    // × L0, × BullMQ, × its bare loop: Protocol's rows have all three, the bare loops' no third.
    const ratios = row!.split(' | ').slice(2, 5);
    assert.match(ratios[0]!, /^[\d.]+$/, `${system} × L0`);
    assert.match(ratios[1]!, /^[\d.]+$/, `${system} × BullMQ`);
    assert.match(ratios[2]!, system.startsWith('Protocol') ? /^[\d.]+$/ : /^—$/, `${system} × its bare loop`);
  }
  assert.match(report, /## Sending alone/);
  for (const sender of ['undici `Pool.request`', "Protocol's sender"]) {
    const row = report.split('\n').find((line) => line.startsWith(`| ${sender}`));
    assert.ok(row, `${sender} has a sending-alone row`);
    assert.match(row!, /\| [\d,]+ \| [\d.,]+ µs \[[\d.,]+–[\d.,]+\] \| [\d.,]+ ms \| [\d.]+ \|$/, `${sender} sent at a measured CPU cost`);
  }
  assert.match(report, /## Latency/);
  assert.match(report, /\| Protocol \(SQLite\) \| [\d.,]+ \/ [\d.,]+/);
  assert.match(report, /[\d,]+ requests\/s/);
  assert.match(report, /commits \(API acknowledgement\) in [\d,]+ ms/);
  assert.match(report, /## Backlog drain/);
  assert.match(report, /\| [\d,]+ s \| [\d,]+ s \| [\d,]+\/s \|/, 'the backlog drained at a measurable rate');
});

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

test('npm run bench:ab hands each side its own environment, and stops at once when a side cannot start', () => {
  // B's setting is invalid, so B's `protocol serve` refuses to start: that it says so proves the
  // environment reached B's process. A (started first in round 1) must be stopped, not left
  // running: stopping it removes its data directory, which a process left behind would keep.
  const benchDirs = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('protocol-bench-'));
  const before = benchDirs();
  const result = runBench('bench/ab.ts', ['--rate=20', '--seconds=1', '--rounds=1', '--b-env=PROTOCOL_LOG_LEVEL=loud'], 60_000);
  assert.equal(result.signal, null, 'it exited by itself, not by the timeout');
  assert.equal(result.status, 1);
  assert.match(result.stderr, /PROTOCOL_LOG_LEVEL="loud" is invalid/);
  assert.doesNotMatch(result.stdout, /^\| 1 \|/m, 'no round was reported');
  assert.deepEqual(benchDirs(), before, 'side A was stopped and its directory removed');
});

test('npm run bench:ab on PostgreSQL counts the database server processes that serve each side', () => {
  const result = runBench('bench/ab.ts', ['--database=postgres', '--rate=20', '--seconds=1', '--rounds=1', '--b-system=bare']);
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
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
    ['--b=/nonexistent', /--b=\/nonexistent is not a built checkout/],
    ['--a-env=NOEQUALS', /--a-env takes NAME=value pairs/],
    ['--ratee=3', /unknown option --ratee=3/],
  ] as const) {
    const result = runBench('bench/ab.ts', [arg], 30_000);
    assert.equal(result.status, 2, `${arg}: ${result.stderr}`);
    assert.match(result.stderr, message, arg);
    assert.equal(result.stdout, '', `${arg}: nothing ran`);
  }
});

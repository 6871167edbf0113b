// The benchmark's smoke run (tiny N, one run each), so it cannot rot: every system starts,
// delivers everything verified, and every section of the report has figures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { runBench } from './smoke.js';

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
  // Round by round, every system's rate and CPU per delivery (one round in a smoke run).
  const rounds = report.slice(report.indexOf('Each round:'));
  assert.match(rounds, /^\| round \| L0 \| Bare SQLite loop \(no API\) \| Protocol \(SQLite\) \| .+ \| BullMQ \|$/m);
  assert.match(rounds, /^\| 1 (\| [\d,]+\/s · [\d,]+ µs \(\d+%\) ){6}\|$/m, 'round 1 has a rate and CPU per delivery for each of the six systems');
  assert.match(report, /## Sending alone/);
  for (const sender of ['undici `Pool.request`', "Protocol's sender"]) {
    const row = report.split('\n').find((line) => line.startsWith(`| ${sender}`));
    assert.ok(row, `${sender} has a sending-alone row`);
    assert.match(row!, /\| [\d,]+ \| [\d.,]+ µs \[[\d.,]+–[\d.,]+\] \| [\d.,]+ ms \| [\d.]+ \|$/, `${sender} sent at a measured CPU cost`);
  }
  assert.match(report, /## Latency/);
  // From the acknowledgement, so it can be below zero: a webhook handed over at the commit may
  // arrive before the API's answer reaches the caller.
  assert.match(report, /\| Protocol \(SQLite\) \| -?[\d.,]+ \/ -?[\d.,]+/);
  assert.match(report, /\| L0 \| [\d.,]+ \/ [\d.,]+ \[[\d.,]+–[\d.,]+\] \/ [\d.,]+ \|/, "L0's latency, the floor");
  assert.match(report, /[\d,]+ requests\/s/);
  for (const database of ['SQLite', 'PostgreSQL, 1 API \\+ 2 workers']) {
    assert.match(report, new RegExp(`## Fan-out: .+ \\(${database}\\)\n\nThe change commits \\(API acknowledgement\\) in [\\d,]+ ms`), `fan-out on ${database}`);
  }
  assert.match(report, /## Backlog drain/);
  assert.match(report, /\| 1 \| [\d,]+ s \| [\d,]+ s \| [\d,]+\/s \|/, 'the backlog drained at a measurable rate');
  assert.match(report, /\| median \[range\] \| [\d,]+ s \[[\d,]+–[\d,]+\] \| [\d,]+ s \[[\d,]+–[\d,]+\] \| [\d,]+\/s \[[\d,]+–[\d,]+\] \|/, 'the drains summed up as the median and range');
  // The report ends with the targets, judged; a smoke run has the throughput ratios and
  // ingest (latency, fan-out and backlog are judged only at the targets' own rates and sizes).
  const targets = report.slice(report.indexOf('## Targets'));
  assert.match(targets, /^## Targets \(the issue's\), judged on this run's medians \(smoke run/);
  for (const [label, anchor] of [['Throughput on SQLite × L0', true], ['Throughput on SQLite × BullMQ', true], ['Throughput on PostgreSQL (2 workers) × L0', true], ['API ingest on SQLite', false]] as const) {
    const row = targets.split('\n').find((line) => line.startsWith(`| ${label}`));
    assert.ok(row, `${label} is judged`);
    assert.match(row!, new RegExp(`\\| [≥≤<] [\\d,.]+(×|/s) \\| [\\d,.]+(×|/s) \\| (met|not met) \\| ${anchor ? '[\\d.]+×' : '—'} \\|$`), `${label}: bound, figure, verdict, anchor`);
  }
});

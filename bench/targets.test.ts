import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backlogFigures, boundText, figure, judge, TARGETS, verdictFigure, type Measured } from './targets.js';

test('each figure is judged against its bound, at the bound included or not as the issue words it', () => {
  const verdicts = judge({ sqliteXL0: 0.7, sqliteXBullmq: 2.49, sqliteP99At500: 15, sqliteP99At2000: 25.1, fanoutCommitMs: 500, fanoutCommitMsPostgres: 499, backlogRssMb: 299.9 });
  const met = Object.fromEntries(verdicts.map((v) => [v.target.name, v.met]));
  assert.deepEqual(met, {
    sqliteXL0: true, // "at least 0.7×"
    sqliteXBullmq: false,
    sqliteP99At500: true, // "≤ 15 ms"
    sqliteP99At2000: false,
    fanoutCommitMs: false, // "< 500 ms"
    fanoutCommitMsPostgres: true,
    backlogRssMb: true, // "< 300 MB"
  });
});

test('only what was measured is judged, in the issue order, with the bare loop beside the throughput targets', () => {
  const verdicts = judge({ ingest: 2933, postgresXL0: 0.25, sqliteXL0: Number.NaN, backlogSteadiness: 0.8 }, { barePostgresXL0: 0.43, bareSqliteXL0: 0.78 });
  assert.deepEqual(
    verdicts.map((v) => [v.target.name, v.value, v.met, v.anchor]),
    [
      ['postgresXL0', 0.25, false, 0.43],
      ['ingest', 2933, false, undefined],
      ['backlogSteadiness', 0.8, true, undefined],
    ],
  );
  assert.deepEqual(judge({}), []);
});

test('bounds read as the issue states them', () => {
  const text = Object.fromEntries(TARGETS.map((t) => [t.name, boundText(t)]));
  assert.equal(text.sqliteXL0, '≥ 0.7×');
  assert.equal(text.ingest, '≥ 3,000/s');
  assert.equal(text.sqliteP99At2000, '≤ 25 ms');
  assert.equal(text.fanoutCommitMs, '< 500 ms');
  assert.equal(text.fanoutCommitMsPostgres, '< 500 ms');
  assert.equal(text.backlogRssMb, '< 300 MB');
  assert.equal(text.backlogSteadiness, '≥ 0.5');
});

test('figures carry their unit as the report shows them', () => {
  const target = (name: string) => TARGETS.find((t) => t.name === name)!;
  assert.equal(figure(target('sqliteXL0'), 0.5234), '0.52×');
  assert.equal(figure(target('ingest'), 2933.4), '2,933/s');
  assert.equal(figure(target('sqliteP99At500'), 5.24), '5.2 ms');
});

test('a verdict figure that would round onto the other side of its bound shows the decimals that tell', () => {
  const shown = (measured: Measured) => judge(measured).map((v) => [verdictFigure(v), v.met]);
  // 0.697 rounds to 0.70, which reads as meeting ≥ 0.7: the figure says 0.697 beside "not met".
  assert.deepEqual(shown({ sqliteXL0: 0.697 }), [['0.697×', false]]);
  assert.deepEqual(shown({ sqliteXL0: 0.6999 }), [['0.6999×', false]]);
  // 499.6 ms rounds to 500, which reads as failing < 500; 15.04 ms to 15.0, which meets ≤ 15; 2,999.6/s to 3,000/s.
  assert.deepEqual(shown({ fanoutCommitMs: 499.6, sqliteP99At500: 15.04, ingest: 2999.6 }), [['15.04 ms', false], ['2,999.6/s', false], ['499.6 ms', true]]);
  // Rounded as the report rounds it: 0.695 is `0.69` to toFixed but `0.70` to the report.
  assert.deepEqual(shown({ sqliteXL0: 0.695 }), [['0.695×', false]]);
  // Closer to the bound than three more decimals tell: cut toward its own side, never onto the bound.
  assert.deepEqual(shown({ sqliteXL0: 0.6999953, fanoutCommitMs: 499.9999 }), [['0.69999×', false], ['499.999 ms', true]]);
  // A figure whose rounding agrees with its verdict keeps the target's decimals.
  assert.deepEqual(shown({ sqliteXL0: 0.7, postgresXL0: 0.3949, ingest: 2933.4 }), [['0.70×', true], ['0.39×', false], ['2,933/s', false]]);
});

test('several drains are judged on the most RSS any one reached, and on the medians of the rest', () => {
  const drains = [
    { rss: { max: 190 }, api: { p99: 6.4 }, steadiness: 0.94 },
    { rss: { max: 301 }, api: { p99: 7.3 }, steadiness: 0.84 },
    { rss: { max: 188 }, api: { p99: 6.8 } }, // too short for two windows
  ];
  assert.deepEqual(backlogFigures(drains), { backlogRssMb: 301, backlogApiP99: 6.8, backlogSteadiness: 0.84 });
  // One drain over the bound fails the target, however low the median drain stayed.
  assert.deepEqual(judge(backlogFigures(drains)).map((v) => [v.target.name, v.met]), [['backlogRssMb', false], ['backlogApiP99', true], ['backlogSteadiness', true]]);
  assert.deepEqual(backlogFigures([{ rss: { max: 150 }, api: { p99: 2 } }]), { backlogRssMb: 150, backlogApiP99: 2 });
});

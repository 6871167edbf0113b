// The periodic jobs' schedule (retention, PostgreSQL statistics): when runs start, that a failing
// run does not end the schedule, and that stopping waits for the run in progress.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { periodic } from './periodic.js';

/** Lets the job's promise chain (and the rescheduling after it) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Runs `body` with setTimeout mocked: `advance(ms)` moves the clock (`now`) and lets the job react. */
async function withClock(body: (clock: { advance(ms: number): Promise<void>; readonly now: number }) => Promise<void>) {
  mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  try {
    await body({
      async advance(ms) {
        now += ms;
        mock.timers.tick(ms);
        await settle();
      },
      get now() {
        return now;
      },
    });
  } finally {
    mock.timers.reset();
  }
}

test('the first run comes after firstAfterMs, each next everyMs after the last one ended; a failure is reported and the schedule goes on', () =>
  withClock(async (clock) => {
    const runs: number[] = [];
    const errors: unknown[] = [];
    const job = periodic(
      async () => {
        runs.push(clock.now);
        if (runs.length === 2) throw new Error('second run failed');
      },
      { firstAfterMs: 10, everyMs: 100, onError: (error) => errors.push(error) },
    );
    job.start();
    await clock.advance(9);
    assert.deepEqual(runs, [], 'nothing before firstAfterMs');
    await clock.advance(1);
    assert.deepEqual(runs, [10]);
    await clock.advance(99);
    assert.deepEqual(runs, [10]);
    await clock.advance(1);
    assert.deepEqual(runs, [10, 110]);
    assert.equal((errors[0] as Error).message, 'second run failed');
    await clock.advance(100);
    assert.deepEqual(runs, [10, 110, 210], 'the failed run did not end the schedule');
    await job.stop();
    await clock.advance(1_000);
    assert.deepEqual(runs, [10, 110, 210], 'nothing after stop');
    assert.equal(job.stopping, true);
  }));

test('stop waits for the run in progress, which can see it is stopping', async () => {
  let release!: () => void;
  let sawStopping: boolean | undefined;
  const job = periodic(
    async () => {
      await new Promise<void>((resolve) => (release = resolve));
      sawStopping = job.stopping;
    },
    { firstAfterMs: 1, everyMs: 60_000, onError: (error) => assert.fail(`the run failed: ${String(error)}`) },
  );
  job.start();
  while (!release) await new Promise((resolve) => setTimeout(resolve, 1));
  let stopped = false;
  const stopping = job.stop().then(() => (stopped = true));
  await settle();
  assert.equal(stopped, false, 'stop waits while the run is in progress');
  release();
  await stopping;
  assert.equal(sawStopping, true);
});

test('a run longer than everyMs is not overlapped: the next starts everyMs after it ends', () =>
  withClock(async (clock) => {
    const starts: number[] = [];
    let release: (() => void) | undefined;
    const job = periodic(
      async () => {
        starts.push(clock.now);
        if (starts.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      { firstAfterMs: 10, everyMs: 100, onError: (error) => assert.fail(`the run failed: ${String(error)}`) },
    );
    job.start();
    await clock.advance(10);
    assert.deepEqual(starts, [10]);
    await clock.advance(250);
    assert.deepEqual(starts, [10], 'no second run while the first is in progress, however long it takes');
    release!();
    await settle();
    await clock.advance(99);
    assert.deepEqual(starts, [10]);
    await clock.advance(1);
    assert.deepEqual(starts, [10, 360], 'the next run everyMs after the first ended (at 260)');
    await job.stop();
  }));

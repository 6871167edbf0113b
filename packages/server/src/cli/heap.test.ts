// The heap bound a dedicated `protocol worker` applies, on a workload shaped like a worker's:
// a live heap, and a stream of objects that live long enough to be promoted, then die; and
// which processes apply it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startProtocol } from '../test-support/process.js';
import { HEAP_GROWING_PERCENT } from './heap.js';

const HEAP = new URL('./heap.ts', import.meta.url).href;

/** Old space's peak over the live heap, in a fresh process, with or without the bound. */
function peakOverLive(bounded: boolean): number {
  const script = `
    import v8 from 'node:v8';
    import { boundHeapGrowth } from ${JSON.stringify(HEAP)};
    if (${bounded}) boundHeapGrowth();
    const live = [];
    for (let i = 0; i < 100_000; i++) live.push({ i, s: 'x'.repeat(100) + i });
    globalThis.gc();
    const base = v8.getHeapStatistics().used_heap_size;
    const ring = new Array(20_000); // each object outlives a few young collections, then dies
    let n = 0, peak = 0;
    // A fixed amount of work, not a time: on a machine slowed by its neighbours (or by other test
    // files), 1.5 s of it once left V8 alone at 2.9× and failed the control below.
    for (let round = 0; round < 1200; round++) {
      for (let i = 0; i < 2000; i++) ring[n++ % ring.length] = { a: 'y'.repeat(200) + n, b: [n, n + 1] };
      await new Promise((resolve) => setImmediate(resolve));
      peak = Math.max(peak, v8.getHeapStatistics().used_heap_size);
    }
    console.log(JSON.stringify({ ratio: peak / base, live: live.length }));`;
  const run = spawnSync(process.execPath, ['--expose-gc', '--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout).ratio;
}

test('old space grows to about twice the live heap between full collections, where V8 alone lets it reach four to five times', () => {
  const unbounded = peakOverLive(false);
  const bounded = peakOverLive(true);
  // The control: V8's own choice on this workload (4.5–5.2 measured). Were it already low, the
  // bounded run would prove nothing.
  assert.ok(unbounded > 4, `without the bound the heap peaks at ${unbounded.toFixed(2)}× the live heap`);
  // Twice the live heap, plus the young generation and the ring itself (2.98–3.03 measured).
  assert.ok(bounded < 3.5, `with the bound the heap peaks at ${bounded.toFixed(2)}× the live heap`);
});

test('a dedicated `protocol worker` applies the bound at start; `serve`, with or without its worker, keeps V8 its own', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-heap-'));
  // Preloaded into each real process: records every V8 flag it sets, where the test can read it.
  const hook = path.join(dir, 'record-flags.mjs');
  fs.writeFileSync(
    hook,
    `import fs from 'node:fs';
    import v8 from 'node:v8';
    const set = v8.setFlagsFromString;
    v8.setFlagsFromString = (flags) => { fs.appendFileSync(process.env.FLAGS_FILE, flags + '\\n'); return set(flags); };`,
  );
  const flagsOf = async (args: string[], ready: RegExp) => {
    const file = path.join(dir, `${args.join('-')}.flags`);
    fs.writeFileSync(file, '');
    const env = { PROTOCOL_DATABASE_URL: `sqlite:${path.join(dir, `${args.join('-')}.db`)}`, PROTOCOL_DATA_DIR: dir, NODE_OPTIONS: `--import=${hook}`, FLAGS_FILE: file };
    const running = await startProtocol(args, env, 20_000, ready);
    assert.equal((await fetch(`${running.url}/readyz`)).status, 200);
    assert.equal(await running.stop(), 0);
    return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  };
  try {
    assert.deepEqual(await flagsOf(['worker'], /worker is running at (http:\/\/\S+)/), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    assert.deepEqual(await flagsOf(['serve'], /running at (http:\/\/\S+)/), []);
    assert.deepEqual(await flagsOf(['serve', '--no-worker'], /running at (http:\/\/\S+)/), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

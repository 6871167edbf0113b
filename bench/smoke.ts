// What the bench's smoke tests share (bench.test.ts, ab.test.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs one of the bench's scripts from source, as `npm run bench` does, and waits for it. */
export const runBench = (file: string, args: string[], timeout = 120_000, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file, ...args], { cwd: ROOT, encoding: 'utf8', timeout, env: { ...process.env, ...env } });

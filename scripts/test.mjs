// Runs every *.test.ts of the workspace with Node's test runner, straight from source (tsx, and
// the "source" export condition so @protocol/sdk resolves to its .ts files, no build needed).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist'].includes(entry.name) ? [] : find(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

// The black-box tests run the built `protocol` bin, so build first (incremental: fast when current).
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/sdk', 'packages/server'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
// Tests, examples and the dashboard are not part of that build; type-check them too, and build
// the dashboard the browser tests load.
for (const args of [['node_modules/typescript/bin/tsc', '-p', 'tsconfig.check.json'], ['node_modules/typescript/bin/tsc', '-p', 'packages/dashboard/tsconfig.json'], ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn', 'packages/dashboard']]) {
  const step = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (step.status !== 0) process.exit(step.status ?? 1);
}

const only = process.argv.slice(2);
const files = [...find('packages'), ...find('bench')]
  .filter((file) => only.length === 0 || only.some((part) => file.includes(part)))
  .sort();
if (files.length === 0) {
  console.error('No test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);

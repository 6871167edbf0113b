import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.js';
import { parseDuration, parseDurationList } from './duration.js';

test('durations in every unit', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('5s'), 5_000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('30d'), 2_592_000_000);
  assert.equal(parseDuration('5'), undefined);
  assert.equal(parseDuration('5 weeks'), undefined);
  assert.deepEqual(parseDurationList('5s,5m,30m,2h,5h,10h,10h'), [5e3, 3e5, 1.8e6, 7.2e6, 1.8e7, 3.6e7, 3.6e7]);
  assert.equal(parseDurationList('5s,,5m'), undefined);
});

test('defaults match SPEC §1, and the result is frozen', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.databaseUrl, `sqlite:${path.resolve('data/protocol.db')}`);
  assert.equal(config.retryScheduleMs.length, 7, 'the first attempt is immediate: 8 attempts in all');
  assert.equal(config.deliveryTimeoutMs, 15_000);
  assert.equal(config.allowPrivateUrls, false);
  assert.equal(config.disableAfterMs, 5 * 86_400_000);
  assert.equal(config.rateLimit, 1000);
  assert.equal(config.retentionMs, 30 * 86_400_000);
  assert.equal(config.apiKey, undefined);
  assert.ok(Object.isFrozen(config));
  assert.throws(() => ((config as { port: number }).port = 1));
});

test('env is read, and flags win over env', () => {
  const config = loadConfig(
    { PORT: '9000', PROTOCOL_DATA_DIR: '/tmp/p', PROTOCOL_ALLOW_PRIVATE_URLS: '1', PROTOCOL_RETRY_SCHEDULE: '1s,2s', PROTOCOL_RATE_LIMIT: '0', PROTOCOL_API_KEY: 'sk_0123456789abcdef' },
    { port: 0, databaseUrl: 'postgres://u@h/db' },
  );
  assert.equal(config.port, 0);
  assert.equal(config.dataDir, '/tmp/p');
  assert.equal(config.databaseUrl, 'postgres://u@h/db');
  assert.equal(config.allowPrivateUrls, true);
  assert.deepEqual(config.retryScheduleMs, [1000, 2000]);
  assert.equal(config.rateLimit, 0);
  assert.equal(config.apiKey, 'sk_0123456789abcdef');
  assert.equal(loadConfig({ PROTOCOL_DATA_DIR: '/tmp/p' }).databaseUrl, 'sqlite:/tmp/p/protocol.db', 'the default database lives in the data dir');
});

test('every problem is reported together, naming the variable and what it accepts', () => {
  const error = (() => {
    try {
      loadConfig({ PORT: 'eighty', PROTOCOL_RETRY_SCHEDULE: '5s,soon', PROTOCOL_DATABASE_URL: 'mysql://x', PROTOCOL_DELIVERY_TIMEOUT: '0s', PROTOCOL_ALLOW_PRIVATE_URLS: 'maybe' });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof ConfigError);
  assert.equal(error.problems.length, 5);
  assert.match(error.message, /PORT="eighty" is invalid: expected a port number/);
  assert.match(error.message, /PROTOCOL_RETRY_SCHEDULE="5s,soon" is invalid: expected comma-separated durations/);
  assert.match(error.message, /PROTOCOL_DATABASE_URL="mysql:\/\/x" is invalid: expected sqlite:<path> or postgres/);
  assert.match(error.message, /PROTOCOL_DELIVERY_TIMEOUT="0s"/);
  assert.match(error.message, /PROTOCOL_ALLOW_PRIVATE_URLS="maybe"/);
});

test('one list of variables: what loadConfig reads, the README table and --help agree', async () => {
  const fs = await import('node:fs');
  const { ENVIRONMENT } = await import('./config.js');
  const source = fs.readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
  const read = [...source.matchAll(/read(?:<[^>]+>)?\('([A-Z_]+)'/g)].map((m) => m[1]).sort();
  const listed = ENVIRONMENT.map(([name]) => name).sort();
  assert.deepEqual(listed, read);
  const readme = fs.readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  const documented = [...table.matchAll(/^\| `([A-Z_]+)`(?: \/ `([A-Z_]+)`)?/gm)].flatMap((m) => [m[1], m[2]].filter(Boolean)).sort();
  assert.deepEqual(documented, listed);
});

// Crash safety and scale-out with real processes: kill -9 mid-burst loses no acknowledged
// change; three workers share one PostgreSQL and one of them dies mid-run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { postgresDatabase, sqliteDatabase } from '../test-support/databases.js';
import { startProtocol, type ProtocolProcess } from '../test-support/process.js';
import { startReceiver, type Received } from '../test-support/receiver.js';

const KEY = 'sk_crash_test_key_0123456789abcdef';
const processes: ProtocolProcess[] = [];
const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  for (const close of cleanup.reverse()) await close();
});

async function call(url: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${url}/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** The contact ids carried by contact.created deliveries. */
const deliveredContacts = (received: Received[]) => new Set(received.map((r) => JSON.parse(r.body).payload.id as string));

async function until(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function baseEnv(databaseUrl: string) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-crash-'));
  cleanup.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  // A 1 s timeout makes a dead worker's leases expire after 7 s.
  return { PROTOCOL_DATABASE_URL: databaseUrl, PROTOCOL_DATA_DIR: dataDir, PROTOCOL_API_KEY: KEY, PROTOCOL_ALLOW_PRIVATE_URLS: '1', PROTOCOL_DELIVERY_TIMEOUT: '1s', PROTOCOL_RETRY_SCHEDULE: '1s' };
}

describe('crash safety', () => {
  test('kill -9 mid-burst: after a restart every acknowledged change is delivered', async () => {
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 5 }));
    cleanup.push(() => receiver.close());
    const target = await sqliteDatabase();
    cleanup.push(() => target.drop());
    const env = baseEnv(target.url);
    const first = await startProtocol(['serve'], env);
    processes.push(first);
    assert.equal((await call(first.url, 'POST', '/webhooks', { name: 'crash', url: `${receiver.url}/hook`, events: ['contact.created'] })).status, 201);

    const acknowledged: string[] = [];
    let killed = false;
    const client = async (lane: number) => {
      for (let i = 0; !killed && i < 1000; i++) {
        try {
          const created = await call(first.url, 'POST', '/contacts', { username: `u${lane}-${i}`, phone_number: '1' });
          if (created.status === 201) acknowledged.push(created.body.id);
        } catch {
          return; // the process died under this request: not acknowledged
        }
        if (acknowledged.length >= 150 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(client));
    assert.ok(killed && acknowledged.length >= 150);

    const second = await startProtocol(['serve'], env);
    processes.push(second);
    await until(() => acknowledged.every((id) => deliveredContacts(receiver.received).has(id)), 30_000, 'every acknowledged change to be delivered');
    await second.stop();
  });
});

const postgres = await postgresDatabase();
describe('scale-out on PostgreSQL', { skip: postgres ? false : 'PostgreSQL unreachable' }, () => {
  test('1 API process and 3 workers share the work; a worker killed mid-run duplicates only what it held', async () => {
    cleanup.push(() => postgres!.drop());
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 20 }));
    cleanup.push(() => receiver.close());
    const env = baseEnv(postgres!.url);
    const api = await startProtocol(['serve', '--no-worker'], env);
    processes.push(api);
    const workers = await Promise.all([0, 1, 2].map(() => startProtocol(['worker'], env)));
    processes.push(...workers);
    for (const worker of workers) assert.equal((await fetch(`${worker.url}/readyz`)).status, 200);
    assert.match(await (await fetch(`${workers[0]!.url}/metrics`)).text(), /protocol_delivery_queue_depth/);

    const webhook = await call(api.url, 'POST', '/webhooks', { name: 'scale', url: `${receiver.url}/hook`, events: ['contact.created'] });
    assert.equal(webhook.status, 201);
    const ids: string[] = [];
    let killedAt = 0;
    for (let i = 0; i < 300; i++) {
      ids.push((await call(api.url, 'POST', '/contacts', { username: `s${i}`, phone_number: '1' })).body.id);
      if (!killedAt && receiver.received.length >= 60) {
        killedAt = Date.now();
        workers[0]!.child.kill('SIGKILL');
      }
    }
    if (!killedAt) {
      await until(() => receiver.received.length >= 60, 20_000, 'deliveries to start');
      killedAt = Date.now();
      workers[0]!.child.kill('SIGKILL');
    }
    await until(() => ids.every((id) => deliveredContacts(receiver.received).has(id)), 40_000, 'every change to be delivered');

    const byDelivery = new Map<string, Received[]>();
    for (const r of receiver.received) {
      const id = r.headers['x-protocol-delivery'] as string;
      byDelivery.set(id, [...(byDelivery.get(id) ?? []), r]);
    }
    const duplicates = [...byDelivery.values()].filter((copies) => copies.length > 1);
    for (const copies of duplicates) {
      assert.ok(copies[0]!.at <= killedAt + 50, 'a duplicate was first sent before the kill, by the worker that died holding it');
    }
    // What the dead worker held: up to 128 attempts in flight and 512 results not yet written.
    assert.ok(duplicates.length <= 640, `duplicates (${duplicates.length}) are bounded by what one worker holds`);
    for (const survivor of [workers[1]!, workers[2]!]) {
      const metrics = await (await fetch(`${survivor.url}/metrics`)).text();
      const sent = Number(/protocol_delivery_attempts_total\{outcome="succeeded"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      assert.ok(sent > 0, 'every surviving worker took a share of the work');
    }
    await Promise.all([api, workers[1]!, workers[2]!].map((p) => p.stop()));
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM lets attempts in flight finish, releases what outlives the grace period, and exits 0', async () => {
    const receiver = await startReceiver((request) => (request.path === '/slow' ? { status: 200, delayMs: 500 } : { hang: true }));
    cleanup.push(() => receiver.close());
    const target = await sqliteDatabase();
    cleanup.push(() => target.drop());
    const env = { ...baseEnv(target.url), PROTOCOL_DELIVERY_TIMEOUT: '60s', PROTOCOL_SHUTDOWN_GRACE: '2s' };
    const first = await startProtocol(['serve'], env);
    processes.push(first);
    const slow = (await call(first.url, 'POST', '/webhooks', { name: 'slow', url: `${receiver.url}/slow`, events: ['contact.created'] })).body;
    const stuck = (await call(first.url, 'POST', '/webhooks', { name: 'stuck', url: `${receiver.url}/stuck`, events: ['contact.created'] })).body;
    await call(first.url, 'POST', '/contacts', { username: 'bye', phone_number: '1' });
    await receiver.waitFor(2);
    const stoppedAt = Date.now();
    assert.equal(await first.stop('SIGTERM'), 0);
    assert.ok(Date.now() - stoppedAt < 10_000, 'the grace period bounds the shutdown');

    // A lease held past the grace period is released, so a new worker retries at once instead of waiting it out.
    receiver.respond = () => ({ status: 200 });
    const second = await startProtocol(['serve'], { ...env, PROTOCOL_DELIVERY_TIMEOUT: '60s' });
    processes.push(second);
    const finished = (await call(second.url, 'GET', `/webhooks/${slow.id}/deliveries`)).body.data[0];
    assert.equal(finished.status, 'succeeded', 'the slow attempt finished within the grace period and was recorded');
    assert.equal(finished.attempt_count, 1);
    await receiver.waitFor(1, { filter: (r) => r.path === '/stuck' && r.at > stoppedAt, timeoutMs: 5000 });
    const released = (await call(second.url, 'GET', `/webhooks/${stuck.id}/deliveries`)).body.data[0];
    assert.equal(receiver.received.filter((r) => r.path === '/slow').length, 1, 'no duplicate for the finished attempt');
    assert.ok(released.id);
    await second.stop();
  });
});

// Black-box: the real `protocol serve` on PostgreSQL while the database server terminates its
// connections under load (what a restart or a failover does to them). A connection lost while a
// request held it was an uncaught exception that ended the process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { adminQuery, postgresDatabase } from '../test-support/databases.js';
import { startProtocol } from '../test-support/process.js';
import { startReceiver } from '../test-support/receiver.js';

const KEY = 'sk_database_loss_test_key_000001';

test('PostgreSQL connections terminated under load: the requests they held fail with an error body, the process lives on and serves the next ones', async (t) => {
  const target = await postgresDatabase();
  if (!target) return t.skip('PostgreSQL is unreachable');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-loss-'));
  // Named, so its connections can be found and terminated.
  const application = `loss_${process.pid}_${Date.now()}`;
  const server = await startProtocol(['serve', '--no-worker'], {
    PROTOCOL_DATA_DIR: dataDir,
    PROTOCOL_DATABASE_URL: `${target.url}&application_name=${application}`,
    PROTOCOL_API_KEY: KEY,
    PROTOCOL_RATE_LIMIT: '0',
  });
  const call = (route: string, body: unknown) =>
    fetch(`${server.url}/v1${route}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  try {
    const contact = (await (await call('/contacts', { username: 'loss', phone_number: '1' })).json()) as { conversation_id: string };
    const message = () => call('/messages', { conversation_id: contact.conversation_id, message: 'still there?' });
    const failures: Array<{ status: number; body: unknown }> = [];
    let ok = 0;
    let writing = true;
    // Eight writers keep most of the pool's connections lent out, mid-transaction.
    const writers = Array.from({ length: 8 }, async () => {
      while (writing) {
        const response = await message();
        if (response.status === 201) ok++;
        else failures.push({ status: response.status, body: await response.json() });
        if (response.status === 201) await response.arrayBuffer();
      }
    });
    let terminated = 0;
    for (let round = 0; round < 25 && server.child.exitCode === null; round++) {
      const rows = await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${application}'`);
      terminated += rows.length;
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    writing = false;
    await Promise.allSettled(writers);

    assert.equal(server.child.exitCode, null, `the process is still running:\n${server.stderr()}`);
    assert.ok(terminated > 0, "connections were terminated");
    assert.ok(ok > 0, 'messages were written meanwhile');
    for (const failure of failures) {
      assert.ok(failure.status >= 500, `a lost connection is the server's failure, not the caller's: ${failure.status}`);
      assert.deepEqual(Object.keys(failure.body as object).sort(), ['documentation_url', 'message', 'type'], 'with the error body');
      assert.equal((failure.body as { type: string }).type, 'api_error');
    }
    const after = await message();
    assert.equal(after.status, 201, 'the next request is served on a new connection');
  } finally {
    await server.stop();
    await target.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('PostgreSQL connections of a delivering protocol worker terminated again and again: it lives on, and every message is delivered', async (t) => {
  const target = await postgresDatabase();
  if (!target) return t.skip('PostgreSQL is unreachable');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-loss-'));
  const receiver = await startReceiver();
  const worker = `loss_worker_${process.pid}_${Date.now()}`;
  const env = { PROTOCOL_DATA_DIR: dataDir, PROTOCOL_API_KEY: KEY, PROTOCOL_RATE_LIMIT: '0', PROTOCOL_ALLOW_PRIVATE_URLS: '1', PROTOCOL_DELIVERY_TIMEOUT: '1s' };
  const api = await startProtocol(['serve', '--no-worker'], { ...env, PROTOCOL_DATABASE_URL: target.url });
  const call = async (route: string, body: unknown) => {
    const response = await fetch(`${api.url}/v1${route}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(response.status, 201, await response.clone().text());
    return (await response.json()) as Record<string, string>;
  };
  // Only the worker's connections are named, so only they are terminated.
  const delivering = await startProtocol(['worker'], { ...env, PROTOCOL_DATABASE_URL: `${target.url}&application_name=${worker}` }, 20_000, /worker is running at (http:\/\/\S+)/);
  try {
    await call('/webhooks', { name: 'loss', url: `${receiver.url}/loss`, events: ['message.created'] });
    const { conversation_id } = await call('/contacts', { username: 'loss', phone_number: '1' });
    const sent = new Set<string>();
    const sending = (async () => {
      for (let i = 0; i < 200; i++) sent.add((await call('/messages', { conversation_id, message: `m${i}` })).id!);
    })();
    let terminated = 0;
    for (let round = 0; round < 25 && delivering.child.exitCode === null; round++) {
      terminated += (await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${worker}'`)).length;
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await sending;
    assert.ok(terminated > 0, 'connections were terminated');
    // At least once: a batch lost with its connection is sent again when its lease runs out (~7 s here).
    const messageOf = (r: { body: string }) => (JSON.parse(r.body) as { payload: { id: string } }).payload.id;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && new Set(receiver.received.map(messageOf)).size < sent.size) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual([...new Set(receiver.received.map(messageOf))].sort(), [...sent].sort(), 'every message was delivered');
    assert.equal(delivering.child.exitCode, null, `the worker is still running:\n${delivering.stderr()}`);
  } finally {
    await delivering.stop();
    await api.stop();
    await receiver.close();
    await target.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

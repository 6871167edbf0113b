// Black-box: the developer-side commands (listen, trigger, webhooks, events) as real processes
// against a real server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EVENT_TYPES, verifyWebhook } from '@protocol/sdk';
import { sqliteDatabase } from '../test-support/databases.js';
import { runCli, startProtocol, type ProtocolProcess } from '../test-support/process.js';
import { startReceiver, type Receiver } from '../test-support/receiver.js';

const KEY = 'sk_cli_test_key_0123456789abcdef';
let server: ProtocolProcess;
let app: Receiver;
let env: Record<string, string>;
const cleanup: Array<() => Promise<unknown>> = [];
before(async () => {
  const target = await sqliteDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-cli-remote-'));
  cleanup.push(() => target.drop(), async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  server = await startProtocol(['serve'], { PROTOCOL_DATABASE_URL: target.url, PROTOCOL_DATA_DIR: dataDir, PROTOCOL_API_KEY: KEY, PROTOCOL_ALLOW_PRIVATE_URLS: '1' });
  app = await startReceiver(() => ({ status: 202, body: 'thanks' }));
  env = { PROTOCOL_URL: server.url, PROTOCOL_API_KEY: KEY };
});
after(async () => {
  await server.stop();
  await app.close();
  for (const close of cleanup) await close();
});

const cli = (...args: string[]) => runCli(args, env);
const listenProcess = (...args: string[]) => startProtocol(['listen', ...args], env, 20_000, /on (http:\/\/\S+) \(webhook/);

describe('protocol listen', () => {
  test('verifies and prints each delivery, forwards the exact body and headers, and deletes its webhook on SIGTERM', async () => {
    const listener = await listenProcess('--forward-to', `${app.url}/webhooks`, '--events', 'contact.created,message.created');
    const secret = /signing secret: (whsec_\S+)/.exec(listener.stdout())![1]!;
    const triggered = await cli('trigger', 'message.created');
    assert.equal(triggered.code, 0, triggered.stderr);
    const forwarded = await app.waitFor(2);
    for (const request of forwarded) {
      const event = verifyWebhook(request.body, request.headers, secret);
      assert.ok(['contact.created', 'message.created'].includes(event.type));
      assert.equal(request.path, '/webhooks');
    }
    const deadline = Date.now() + 5000;
    while (!/→ 202 .*\n.*→ 202 /s.test(listener.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const lines = listener.stdout();
    assert.match(lines, /\d\d:\d\d:\d\d {2}contact\.created +[A-Za-z0-9]{16} {2}trigger_\w+ \(1-800-759-3000\)/);
    assert.match(lines, /message\.created +[A-Za-z0-9]{16} {2}"Keep the change, ya filthy animal\." in/);
    assert.match(lines, /→ 202 from http:\/\/127\.0\.0\.1:\d+\/webhooks for [A-Za-z0-9]{16}/);
    assert.doesNotMatch(lines, /conversation\.created/, 'only the chosen events');
    assert.equal((await cli('webhooks', 'list', '--json')).stdout.includes('protocol listen'), true);
    assert.equal(await listener.stop('SIGTERM'), 0);
    assert.match(listener.stdout(), /the temporary webhook was deleted/);
    assert.deepEqual(JSON.parse((await cli('webhooks', 'list', '--json')).stdout), []);
  });

  test('without --forward-to it only prints', async () => {
    const listener = await listenProcess();
    await cli('trigger', 'group.created');
    const deadline = Date.now() + 5000;
    while (!/group\.created/.test(listener.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(listener.stdout(), /group\.created +[A-Za-z0-9]{16} {2}Trigger \w+/);
    assert.doesNotMatch(listener.stdout(), /→/);
    assert.equal(await listener.stop('SIGINT'), 0);
  });
});

describe('protocol trigger', () => {
  test('each of the 15 types makes real changes that emit it', async () => {
    for (const type of EVENT_TYPES) {
      const result = await cli('trigger', type);
      assert.equal(result.code, 0, `${type}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`Triggered ${type.replace('.', '\\.')}\\.`));
      const latest = JSON.parse((await cli('events', 'list', '--type', type, '--limit', '1', '--json')).stdout);
      assert.equal(latest.length, 1, type);
      const payloadId = latest[0].payload.id;
      assert.match(result.stdout, new RegExp(payloadId), `${type}: the printed steps name the object`);
    }
    const unknown = await cli('trigger', 'contact.exploded');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown event type 'contact\.exploded'/);
  });
});

describe('protocol webhooks and events', () => {
  test('create, list as a table and as JSON, test, delete', async () => {
    const created = await cli('webhooks', 'create', '--name', 'Orders', '--url', `${app.url}/orders`, '--events', 'contact.created,contact.deleted');
    assert.equal(created.code, 0, created.stderr);
    const id = /Created webhook ([A-Za-z0-9]{16})/.exec(created.stdout)![1]!;
    assert.match(created.stdout, /Signing secret \(shown only now\): whsec_/);
    const table = await cli('webhooks', 'list');
    assert.match(table.stdout, /^ID +NAME +URL +EVENTS +STATUS$/m);
    assert.match(table.stdout, new RegExp(`^${id} +Orders +http://127\\.0\\.0\\.1:\\d+/orders +contact\\.created,contact\\.deleted +enabled$`, 'm'));
    const json = JSON.parse((await cli('webhooks', 'list', '--json')).stdout);
    assert.equal(json[0].id, id);
    assert.equal(json[0].secret, undefined);
    const tested = await cli('webhooks', 'test', id, '--type', 'contact.deleted');
    assert.match(tested.stdout, /Queued a test contact\.deleted event as delivery [A-Za-z0-9]{16}/);
    await app.waitFor(1, { filter: (r) => r.path === '/orders' });
    assert.equal((await cli('webhooks', 'delete', id)).code, 0);
    const missing = await cli('webhooks', 'delete', id);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such webhook/);
    const events = await cli('events', 'list', '--limit', '3');
    assert.match(events.stdout, /^ID +TYPE +OBJECT +CREATED$/m);
    assert.equal(events.stdout.trim().split('\n').length, 4);
    assert.equal((await cli('events', 'list', '--limit', '500')).code, 1);
    assert.equal((await cli('webhooks', 'create', '--name', 'x', '--url', 'nope', '--events', 'contact.created')).stderr.includes('(url)'), true);
  });
});

describe('errors and help', () => {
  test('an unreachable server, a bad key, a missing key', async () => {
    const probe = await startReceiver();
    const closedUrl = probe.url;
    await probe.close();
    const unreachable = await runCli(['events', 'list'], { PROTOCOL_URL: closedUrl, PROTOCOL_API_KEY: KEY });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /Could not reach .*ECONNREFUSED.*Is the server running/);
    const badKey = await runCli(['webhooks', 'list'], { PROTOCOL_URL: server.url, PROTOCOL_API_KEY: 'sk_wrong' });
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /The API key was refused \(PROTOCOL_API_KEY\)/);
    const noKey = await runCli(['trigger', 'contact.created'], { PROTOCOL_URL: server.url, PROTOCOL_API_KEY: '' });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /Set PROTOCOL_API_KEY/);
    const listenRefused = await runCli(['listen'], { PROTOCOL_URL: closedUrl, PROTOCOL_API_KEY: KEY });
    assert.equal(listenRefused.code, 1);
  });

  test('listen explains a server that refuses loopback URLs', async () => {
    const target = await sqliteDatabase();
    const strictDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strict-'));
    cleanup.push(async () => fs.rmSync(strictDir, { recursive: true, force: true }));
    const strict = await startProtocol(['serve'], { PROTOCOL_DATABASE_URL: target.url, PROTOCOL_DATA_DIR: strictDir, PROTOCOL_API_KEY: KEY });
    try {
      const refused = await runCli(['listen'], { PROTOCOL_URL: strict.url, PROTOCOL_API_KEY: KEY });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /PROTOCOL_ALLOW_PRIVATE_URLS=1/);
    } finally {
      await strict.stop();
      await target.drop();
    }
  });

  test('--help everywhere', async () => {
    for (const [args, flag] of [
      [['listen', '--help'], '--forward-to <url>'],
      [['trigger', '--help'], 'contact.created'],
      [['webhooks', 'create', '--help'], '--events <types>'],
      [['webhooks', 'list', '--help'], '--json'],
      [['webhooks', 'test', '--help'], '--type <type>'],
      [['events', 'list', '--help'], '--limit <n>'],
      [['worker', '--help'], '--port <port>'],
    ] as const) {
      const result = await runCli([...args], {});
      assert.equal(result.code, 0);
      assert.ok(result.stdout.includes(flag), `${args.join(' ')} lists ${flag}`);
    }
  });
});

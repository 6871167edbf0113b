// The transport against a local server that misbehaves on purpose.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ApiClient } from './api-client.js';
import { ProtocolConnectionError, ProtocolError } from './errors.js';
import { backoffMs } from './http.js';

let server: http.Server;
let base: string;
const seen: Array<{ method: string; url: string; authorization?: string; idempotencyKey?: string }> = [];
let script: Array<(res: http.ServerResponse) => void> = [];
before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
    req.resume();
    const next = script.shift();
    if (next) next(res);
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"has_more":false,"data":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => server.close());

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => (res: http.ServerResponse) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

test('backoff grows, is jittered, and honours a longer Retry-After up to a minute', () => {
  assert.equal(backoffMs(0, null, () => 1), 500);
  assert.equal(backoffMs(0, null, () => 0), 250);
  assert.equal(backoffMs(3, null, () => 1), 4000);
  assert.equal(backoffMs(10, null, () => 1), 8000);
  assert.equal(backoffMs(0, '5', () => 1), 5000);
  assert.equal(backoffMs(0, '3600', () => 1), 60_000);
});

test('idempotent requests are retried on 5xx and 429; the key is sent as a Bearer token', async () => {
  seen.length = 0;
  script = [json(503, { type: 'api_error', message: 'busy' }), json(429, { type: 'invalid_request', message: 'slow down' }, { 'retry-after': '0' })];
  const client = new ApiClient('sk_test', { baseUrl: base, maxRetries: 2 });
  const page = await client.contacts.list({ limit: 5 });
  assert.deepEqual(page, { has_more: false, data: [] });
  assert.equal(seen.length, 3);
  assert.equal(seen[0]!.url, '/v1/contacts?limit=5');
  assert.equal(seen[0]!.authorization, 'Bearer sk_test');
});

test('a 4xx is not retried, and the error body becomes a ProtocolError', async () => {
  seen.length = 0;
  script = [json(400, { type: 'invalid_request', message: "Missing required field 'phone_number'", param: 'phone_number', documentation_url: 'https://x/errors' })];
  const client = new ApiClient('sk_test', { baseUrl: base });
  const error = await client.contacts.create({ username: 'x' } as never).catch((e: unknown) => e);
  assert.ok(error instanceof ProtocolError);
  assert.deepEqual([error.status, error.type, error.message, error.param], [400, 'invalid_request', "Missing required field 'phone_number'", 'phone_number']);
  assert.equal(seen.length, 1);
});

test('a POST carries an Idempotency-Key and is retried with the same key', async () => {
  seen.length = 0;
  script = [json(503, { type: 'api_error', message: 'busy' }), json(201, { id: 'm1' })];
  const client = new ApiClient('sk_test', { baseUrl: base, maxRetries: 2 });
  assert.deepEqual(await client.messages.send({ conversation_id: 'c', message: 'm' }), { id: 'm1' });
  assert.equal(seen.length, 2);
  assert.match(seen[0]!.idempotencyKey ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(seen[1]!.idempotencyKey, seen[0]!.idempotencyKey);
  await client.messages.send({ conversation_id: 'c', message: 'm' });
  assert.notEqual(seen[2]!.idempotencyKey, seen[0]!.idempotencyKey, 'a new call gets a new key');
  assert.equal(seen.filter((s) => s.method === 'GET' && s.idempotencyKey).length, 0);
});

test('unreachable servers and timeouts are ProtocolConnectionErrors with status 0', async () => {
  const probe = http.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const closed = new ApiClient('sk_test', { baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 1 });
  const error = await closed.contacts.get('x').catch((e: unknown) => e);
  assert.ok(error instanceof ProtocolConnectionError);
  assert.equal((error as ProtocolConnectionError).status, 0);
  assert.equal((error as Error).message, `Could not reach http://127.0.0.1:${port}/v1 (ECONNREFUSED)`);
  script = [(res) => setTimeout(() => json(200, {})(res), 1000)];
  const slow = new ApiClient('sk_test', { baseUrl: base, timeoutMs: 100, maxRetries: 0 });
  await assert.rejects(slow.contacts.get('x'), /No answer from .* within 100 ms/);
});

test('auto-pagination walks every page with starting_after', async () => {
  seen.length = 0;
  const item = (id: string) => ({ id });
  script = [json(200, { has_more: true, data: [item('c'), item('b')] }), json(200, { has_more: false, data: [item('a')] })];
  const client = new ApiClient('sk_test', { baseUrl: base });
  const ids: string[] = [];
  for await (const contact of client.contacts.list({ limit: 2 })) ids.push(contact.id);
  assert.deepEqual(ids, ['c', 'b', 'a']);
  assert.deepEqual(seen.map((s) => s.url), ['/v1/contacts?limit=2', '/v1/contacts?limit=2&starting_after=b']);
  assert.throws(() => new ApiClient(''), /API key/);
});

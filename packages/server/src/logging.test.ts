// JSON logs from a real process: request ids honoured, generated and echoed; delivery lines
// that say which webhook, delivery and attempt and how it went; and no credential, ever.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from './logging.js';
import { startReceiver, type Receiver } from './test-support/receiver.js';
import { startProtocol, type ProtocolProcess } from './test-support/process.js';

const API_KEY = 'sk_logging_test_secret_0123456789';
let protocol: ProtocolProcess;
let receiver: Receiver;
let dataDir: string;
before(async () => {
  receiver = await startReceiver((request) => (request.path === '/down' ? { status: 503 } : { status: 200 }));
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-logs-'));
  protocol = await startProtocol(['serve'], {
    PROTOCOL_DATABASE_URL: `sqlite:${path.join(dataDir, 'p.db')}`,
    PROTOCOL_DATA_DIR: dataDir,
    PROTOCOL_API_KEY: API_KEY,
    PROTOCOL_ALLOW_PRIVATE_URLS: '1',
    PROTOCOL_RETRY_SCHEDULE: '1h',
    PROTOCOL_LOG_LEVEL: 'debug',
  });
});
after(async () => {
  await protocol.stop();
  await receiver.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const call = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${protocol.url}/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const logLines = () =>
  protocol
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
async function waitForLog(match: (line: Record<string, any>) => boolean): Promise<Record<string, any>> {
  for (let i = 0; i < 200; i++) {
    const found = logLines().find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no such log line');
}

test('x-request-id is honoured and echoed, or generated, and carried by the access line', async () => {
  const given = await call('GET', '/contacts', undefined, { 'x-request-id': 'req-from-the-client-42' });
  assert.equal(given.headers.get('x-request-id'), 'req-from-the-client-42');
  const line = await waitForLog((l) => l.reqId === 'req-from-the-client-42' && l.msg === 'request');
  assert.deepEqual([line.method, line.url, line.status, typeof line.ms], ['GET', '/v1/contacts', 200, 'number']);
  const generated = await call('GET', '/contacts');
  const id = generated.headers.get('x-request-id') ?? '';
  assert.match(id, /^[0-9a-f-]{36}$/);
  await waitForLog((l) => l.reqId === id && l.status === 200);
});

test('delivery lines carry the webhook, delivery, attempt and outcome', async () => {
  const healthy = await (await call('POST', '/webhooks', { name: 'Up', url: `${receiver.url}/up`, events: ['contact.created'] })).json();
  const failing = await (await call('POST', '/webhooks', { name: 'Down', url: `${receiver.url}/down`, events: ['contact.created'] })).json();
  assert.equal((await call('POST', '/contacts', { username: 'Kevin', phone_number: '1-800-759-3000' })).status, 201);
  const ok = await waitForLog((l) => l.msg === 'delivery attempt' && l.webhook === healthy.id);
  assert.deepEqual([ok.outcome, ok.attempt, ok.status, typeof ok.delivery, ok.level], ['succeeded', 1, 200, 'string', 20]);
  const bad = await waitForLog((l) => l.msg === 'delivery attempt' && l.webhook === failing.id);
  assert.deepEqual([bad.outcome, bad.attempt, bad.status, bad.stage, bad.level], ['retrying', 1, 503, 'http', 30]);
});

test('API keys, webhook secrets, session tokens and Authorization headers never reach the logs', async () => {
  const webhook = await (await call('POST', '/webhooks', { name: 'Secretive', url: `${receiver.url}/s`, events: ['group.created'] })).json();
  const rotated = await (await call('POST', `/webhooks/${webhook.id}/rotate-secret`)).json();
  const { secret: current } = await (await call('GET', `/webhooks/${webhook.id}/secret`)).json();
  const { key: newKey } = await (await call('POST', '/api_keys', { name: 'CI' })).json();
  const basic = `Basic ${Buffer.from(`${newKey}:`).toString('base64')}`;
  assert.equal((await call('GET', '/groups', undefined, { authorization: basic })).status, 200);
  assert.equal((await call('GET', '/groups', undefined, { authorization: 'Bearer sk_wrong_key_is_a_secret_too_123' })).status, 401);
  const signIn = await fetch(`${protocol.url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: protocol.url }, body: JSON.stringify({ api_key: API_KEY }) });
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  assert.equal((await fetch(`${protocol.url}/v1/webhooks`, { headers: { cookie } })).status, 200);
  // A failing request logs its error; make one with credentials in play.
  assert.equal((await call('POST', '/webhooks', { name: 'x', url: 'not a url', events: ['group.created'] })).status, 400);
  await call('POST', '/groups', { name: 'Family' });
  await receiver.waitFor(1, { filter: (r) => r.path === '/s' });
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the last lines flush

  const output = protocol.stdout() + protocol.stderr();
  const secrets = [API_KEY, newKey, 'sk_wrong_key_is_a_secret_too_123', webhook.secret, rotated.secret ?? '', current, cookie.split('=')[1]!, basic.split(' ')[1]!];
  for (const secret of secrets.filter(Boolean)) {
    assert.ok(!output.includes(secret), `a secret (${secret.slice(0, 6)}…) appears in the logs`);
    if (secret.startsWith('whsec_')) assert.ok(!output.includes(secret.slice(6)), 'a secret’s key material appears in the logs');
  }
  assert.doesNotMatch(output, /"authorization"\s*:\s*"(Bearer|Basic)/i);
  assert.ok(logLines().length > 10, 'the process did log');
});

test('the logger itself censors credential-shaped fields wherever a line carries them', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  logger.info({ req: { headers: { authorization: 'Bearer sk_live_1', cookie: 'protocol_session=abc' } }, webhook: { secret: 'whsec_abc' }, apiKey: 'sk_live_2', key: 'sk_live_3' }, 'x');
  const line = JSON.parse(lines[0]!);
  assert.equal(line.req.headers.authorization, '[redacted]');
  assert.equal(line.req.headers.cookie, '[redacted]');
  assert.equal(line.webhook.secret, '[redacted]');
  assert.equal(line.apiKey, '[redacted]');
  assert.equal(line.key, '[redacted]');
  assert.doesNotMatch(lines[0]!, /sk_live|whsec_abc|abc"/);
});

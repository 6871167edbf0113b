// The engine end to end: API change → event → delivery → worker → signed POST to a local
// receiver, with retries, failure handling and isolation.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Worker as Thread } from 'node:worker_threads';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { verifyWebhook } from '@protocol/sdk';
import { postgresDatabase, sqliteDatabase } from '../test-support/databases.js';
import { fakeLookup } from '../test-support/dns.js';
import { startEngine, type Engine } from '../test-support/engine.js';
import { startReceiver, type Receiver } from '../test-support/receiver.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of cleanup.reverse()) await close();
});
async function setup(env: Record<string, string> = {}, respond?: Receiver['respond'], options = {}) {
  const receiver = await startReceiver(respond);
  const engine = await startEngine(env, options);
  cleanup.push(() => receiver.close(), () => engine.close());
  return { receiver, engine };
}
async function register(engine: Engine, url: string, events = ['contact.created']) {
  const { body } = await engine.api('POST', '/webhooks', { name: 'test', url, events });
  return body as { id: string; secret: string };
}
const createContact = (engine: Engine, username: string) => engine.api('POST', '/contacts', { username, phone_number: '1' });
const headers = (r: { headers: Record<string, unknown> }) => r.headers as Record<string, string>;

describe('signatures', () => {
  test("every delivery verifies with the docs' snippet, standardwebhooks, svix and the SDK; a wrong secret fails", async () => {
    const { receiver, engine } = await setup();
    const webhook = await register(engine, `${receiver.url}/hook`, ['contact.created', 'conversation.created']);
    await createContact(engine, 'KevinMcCallister');
    const [first, second] = await receiver.waitFor(2);
    for (const request of [first!, second!]) {
      const h = headers(request);
      // The seed's snippet, verbatim in spirit: hex HMAC of the raw body with the secret string.
      assert.equal(createHmac('sha256', webhook.secret).update(request.body).digest('hex'), h['x-protocol-signature']);
      assert.deepEqual(new StandardWebhook(webhook.secret).verify(request.body, h), JSON.parse(request.body));
      assert.deepEqual(new SvixWebhook(webhook.secret).verify(request.body, { 'svix-id': h['webhook-id']!, 'svix-timestamp': h['webhook-timestamp']!, 'svix-signature': h['webhook-signature']! }), JSON.parse(request.body));
      assert.equal(verifyWebhook(request.body, h, webhook.secret).id, h['webhook-id']);
      assert.throws(() => new StandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').verify(request.body, h));
      assert.throws(() => verifyWebhook(request.body, h, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), /No matching signature/);
      assert.equal(h['content-type'], 'application/json');
      assert.match(h['user-agent']!, /^Protocol-Webhooks\//);
      assert.equal(h['x-protocol-attempt'], '1');
      assert.match(h['x-protocol-delivery']!, /^[A-Za-z0-9]{16}$/);
    }
    assert.deepEqual([headers(first!)['x-protocol-event'], headers(second!)['x-protocol-event']].sort(), ['contact.created', 'conversation.created']);
    const event = JSON.parse(first!.body);
    assert.deepEqual(Object.keys(event), ['id', 'type', 'payload']);
    assert.equal(headers(first!)['webhook-id'], event.id);
  });

  test('rotation: both secrets verify through Standard Webhooks; x-protocol-signature keeps the old secret', async () => {
    const { receiver, engine } = await setup();
    const webhook = await register(engine, `${receiver.url}/hook`);
    const rotated = await engine.api('POST', `/webhooks/${webhook.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, webhook.secret);
    assert.ok(rotated.body.previous_secret_expires_at - Math.floor(Date.now() / 1000) > 23 * 3600);
    assert.equal((await engine.api('GET', `/webhooks/${webhook.id}/secret`)).body.secret, rotated.body.secret);
    await createContact(engine, 'Rotated');
    const [request] = await receiver.waitFor(1);
    const h = headers(request!);
    assert.equal(h['webhook-signature']!.split(' ').length, 2);
    for (const secret of [webhook.secret, rotated.body.secret]) assert.ok(new StandardWebhook(secret).verify(request!.body, h));
    assert.equal(h['x-protocol-signature'], createHmac('sha256', webhook.secret).update(request!.body).digest('hex'));
  });
});

describe('retries and failure handling', () => {
  test('a compressed schedule: attempt count and spacing, identical body and signature, then failed; retry and recover', async () => {
    let healthy = false;
    const { receiver, engine } = await setup({ PROTOCOL_RETRY_SCHEDULE: '1s,1s,1s' }, () => ({ status: healthy ? 200 : 500, body: 'nope' }));
    const webhook = await register(engine, `${receiver.url}/hook`);
    await createContact(engine, 'Retry');
    const attempts = await receiver.waitFor(4, { timeoutMs: 20_000 });
    assert.deepEqual(attempts.map((a) => headers(a)['x-protocol-attempt']), ['1', '2', '3', '4']);
    for (let i = 1; i < 4; i++) {
      const gap = attempts[i]!.at - attempts[i - 1]!.at;
      assert.ok(gap >= 800 && gap <= 2500, `retry ${i} came after ${gap} ms (1s ±20%, plus a poll)`);
    }
    assert.equal(new Set(attempts.map((a) => a.body)).size, 1, 'the body is byte-identical');
    assert.equal(new Set(attempts.map((a) => headers(a)['x-protocol-signature'])).size, 1);
    const [delivery] = (await engine.api('GET', `/webhooks/${webhook.id}/deliveries`)).body.data;
    const failed = await engine.waitForDelivery(delivery.id, (d) => d.status === 'failed');
    assert.equal(failed.attempts.length, 4);
    assert.deepEqual(failed.attempts.map((a: { status_code: number }) => a.status_code), [500, 500, 500, 500]);
    assert.equal(failed.attempts[0].error_stage, 'http');
    assert.equal(failed.attempts[0].response_body, 'nope');
    assert.equal(failed.request.body, attempts[0]!.body);
    assert.equal(failed.attempts[0].request_headers['x-protocol-signature'], headers(attempts[0]!)['x-protocol-signature']);
    assert.deepEqual((await engine.api('GET', `/webhooks/${webhook.id}/deliveries?status=failed`)).body.data.map((d: { id: string }) => d.id), [delivery.id]);
    assert.deepEqual((await engine.api('GET', `/webhooks/${webhook.id}/deliveries?status=succeeded`)).body.data, []);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(receiver.received.length, 4, 'nothing after the last attempt');

    const retried = await engine.api('POST', `/deliveries/${delivery.id}/retry`);
    assert.equal(retried.body.status, 'pending');
    const fifth = await receiver.waitFor(5);
    assert.equal(headers(fifth[4]!)['x-protocol-attempt'], '5');
    assert.equal(fifth[4]!.body, attempts[0]!.body);
    await engine.waitForDelivery(delivery.id, (d) => d.status === 'failed' && d.attempts.length === 5);

    healthy = true;
    const since = Math.floor(Date.now() / 1000) - 60;
    const recovered = await engine.api('POST', `/webhooks/${webhook.id}/recover`, { since });
    assert.deepEqual(recovered.body, { recovered: 1 });
    await engine.waitForDelivery(delivery.id, (d) => d.status === 'succeeded');
    assert.equal((await engine.api('POST', `/webhooks/${webhook.id}/recover`, { since })).body.recovered, 0, 'nothing failed is left');
    assert.equal((await engine.api('POST', `/webhooks/${webhook.id}/recover`, { since: 'yesterday' })).status, 400);

    const metrics = await (await fetch(`${engine.url}/metrics`)).text();
    assert.match(metrics, /protocol_delivery_attempts_total\{outcome="retrying"\} 3/);
    assert.match(metrics, /protocol_delivery_attempts_total\{outcome="failed"\} 2/);
    assert.match(metrics, /protocol_deliveries_total\{outcome="succeeded"\} 1/);
    assert.match(metrics, /protocol_delivery_attempt_duration_seconds_count\{outcome="retrying"\} 3/);
    assert.match(metrics, /protocol_delivery_queue_depth 0/);
    assert.match(metrics, /protocol_delivery_queue_oldest_age_seconds 0/);
  });

  test('410 Gone disables the webhook at once, with a reason', async () => {
    const { receiver, engine } = await setup({}, () => ({ status: 410 }));
    const webhook = await register(engine, `${receiver.url}/gone`);
    await createContact(engine, 'Gone');
    await receiver.waitFor(1);
    const [delivery] = (await engine.api('GET', `/webhooks/${webhook.id}/deliveries`)).body.data;
    await engine.waitForDelivery(delivery.id, (d) => d.status === 'failed');
    const disabled = (await engine.api('GET', `/webhooks/${webhook.id}`)).body;
    assert.equal(disabled.enabled, false);
    assert.match(disabled.disabled_reason, /410 Gone/);
    await createContact(engine, 'After');
    assert.equal((await engine.api('GET', `/webhooks/${webhook.id}/deliveries`)).body.data.length, 1, 'a disabled webhook gets no new deliveries');
    assert.equal((await engine.api('POST', `/deliveries/${delivery.id}/retry`)).status, 409);
    const enabled = await engine.api('PUT', `/webhooks/${webhook.id}`, { enabled: true });
    assert.equal(enabled.body.disabled_reason, null);
  });

  test('a webhook that only failed for PROTOCOL_DISABLE_AFTER is disabled', async () => {
    const { receiver, engine } = await setup({ PROTOCOL_RETRY_SCHEDULE: '1s,1s,1s,1s', PROTOCOL_DISABLE_AFTER: '500ms' }, () => ({ status: 503 }));
    const webhook = await register(engine, `${receiver.url}/down`);
    await createContact(engine, 'Down');
    await receiver.waitFor(2, { timeoutMs: 10_000 });
    const deadline = Date.now() + 5000;
    let current;
    do {
      current = (await engine.api('GET', `/webhooks/${webhook.id}`)).body;
      if (!current.enabled) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    assert.equal(current.enabled, false);
    assert.match(current.disabled_reason, /failed for 500 ms|failed for/);
    const [delivery] = (await engine.api('GET', `/webhooks/${webhook.id}/deliveries`)).body.data;
    assert.equal(delivery.status, 'failed', 'its pending delivery stops');
    const count = receiver.received.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(receiver.received.length, count, 'no more attempts');
  });

  test('Retry-After asking for more time is honoured', async () => {
    const { receiver, engine } = await setup({ PROTOCOL_RETRY_SCHEDULE: '1s,1s' }, (_r, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 }));
    await register(engine, `${receiver.url}/slow-down`);
    await createContact(engine, 'Later');
    const [first, second] = await receiver.waitFor(2, { timeoutMs: 10_000 });
    assert.ok(second!.at - first!.at >= 2900, `waited ${second!.at - first!.at} ms`);
  });

  test('a redirect is a failure and is not followed; a timeout and an oversized body are recorded as such', async () => {
    const { receiver, engine } = await setup({ PROTOCOL_DELIVERY_TIMEOUT: '500ms', PROTOCOL_RETRY_SCHEDULE: '1h' }, (request) => {
      if (request.path === '/redirect') return { status: 302, headers: { location: '/elsewhere' } };
      if (request.path === '/hang') return { hang: true };
      return { status: 200, body: 'x'.repeat(100_000) };
    });
    const redirect = await register(engine, `${receiver.url}/redirect`);
    const hang = await register(engine, `${receiver.url}/hang`);
    const big = await register(engine, `${receiver.url}/big`);
    await createContact(engine, 'Stages');
    const first = async (webhookId: string) => {
      const [delivery] = (await engine.api('GET', `/webhooks/${webhookId}/deliveries`)).body.data;
      return engine.waitForDelivery(delivery.id, (d) => d.attempts.length === 1);
    };
    const redirected = await first(redirect.id);
    assert.equal(redirected.status, 'pending', 'a retry is scheduled');
    assert.equal(redirected.attempts[0].status_code, 302);
    assert.equal(redirected.attempts[0].error_stage, 'http');
    assert.equal(redirected.attempts[0].response_headers.location, '/elsewhere', "the answer's headers are stored as sent back (serialized by the sender)");
    assert.ok(!receiver.received.some((r) => r.path === '/elsewhere'), 'the redirect was not followed');
    const timedOut = await first(hang.id);
    assert.equal(timedOut.attempts[0].error_stage, 'timeout');
    assert.equal(timedOut.attempts[0].status_code, null);
    assert.match(timedOut.attempts[0].error, /500 ms/);
    const large = await first(big.id);
    assert.equal(large.status, 'succeeded');
    assert.equal(large.attempts[0].response_body.length, 4096);
  });

  for (const database of ['sqlite', 'postgres'] as const) {
    test(`an answer with NUL bytes is recorded, the NUL as U+FFFD, and the worker goes on recording (${database})`, async (t) => {
      const target = database === 'postgres' ? await postgresDatabase() : await sqliteDatabase();
      if (!target) return t.skip('PostgreSQL unreachable'); // the engine drops it when it closes
      const { receiver, engine } = await setup({}, (request) => (request.path === '/nul' ? { status: 200, body: Buffer.from('ok\u0000fine\u0000') } : { status: 200 }), { target });
      const nul = await register(engine, `${receiver.url}/nul`);
      const plain = await register(engine, `${receiver.url}/plain`);
      await createContact(engine, 'Nul');
      await receiver.waitFor(2);
      const [answered] = (await engine.api('GET', `/webhooks/${nul.id}/deliveries`)).body.data;
      const recorded = await engine.waitForDelivery(answered.id, (d) => d.status !== 'pending');
      assert.equal(recorded.status, 'succeeded');
      assert.equal(recorded.attempts[0].response_body, 'ok\uFFFDfine\uFFFD');
      // On PostgreSQL the NUL failed the batch's write at every retry: nothing after it was recorded.
      await createContact(engine, 'After');
      await receiver.waitFor(4);
      const after = (await engine.api('GET', `/webhooks/${plain.id}/deliveries`)).body.data;
      assert.equal(after.length, 2);
      for (const delivery of after) assert.equal((await engine.waitForDelivery(delivery.id, (d) => d.status !== 'pending')).status, 'succeeded');
    });
  }

  test('connection errors are recorded with their stage', async () => {
    const { receiver, engine } = await setup({ PROTOCOL_RETRY_SCHEDULE: '1h' });
    await receiver.close();
    const webhook = await register(engine, receiver.url);
    await createContact(engine, 'Refused');
    const [delivery] = (await engine.api('GET', `/webhooks/${webhook.id}/deliveries`)).body.data;
    const refused = await engine.waitForDelivery(delivery.id, (d) => d.attempts.length === 1);
    assert.equal(refused.attempts[0].error_stage, 'connect');
    assert.match(refused.attempts[0].error, /ECONNREFUSED/);
  });

  test('test events: any type, subscribed or not, delivered now and kept out of the events log', async () => {
    const { receiver, engine } = await setup();
    const webhook = await register(engine, `${receiver.url}/hook`, ['group.deleted', 'message.created']);
    const byDefault = await engine.api('POST', `/webhooks/${webhook.id}/test`);
    assert.equal(byDefault.status, 201);
    assert.equal(byDefault.body.event_type, 'message.created', "the first subscribed type in the docs' order");
    const chosen = await engine.api('POST', `/webhooks/${webhook.id}/test`, { type: 'attachment.deleted' });
    assert.equal(chosen.body.event_type, 'attachment.deleted');
    const received = await receiver.waitFor(2);
    const types = received.map((r) => JSON.parse(r.body).type).sort();
    assert.deepEqual(types, ['attachment.deleted', 'message.created']);
    const message = JSON.parse(received.find((r) => r.body.includes('message.created'))!.body);
    assert.equal(message.payload.contact.username, 'KevinMcCallister');
    assert.ok(new StandardWebhook(webhook.secret).verify(received[0]!.body, headers(received[0]!)));
    assert.deepEqual((await engine.api('GET', '/events')).body.data, [], 'test events stay out of the log');
    assert.equal((await engine.api('POST', `/webhooks/${webhook.id}/test`, { type: 'nope' })).status, 400);
  });
});

describe('sender thread', () => {
  test('a sender thread that dies mid-attempt: the delivery is given back, sent again by a new thread, and only that attempt is recorded', async () => {
    const { receiver, engine } = await setup({}, (_request, index) => (index === 0 ? { hang: true } : { status: 200 }));
    const webhook = await register(engine, `${receiver.url}/hook`);
    await createContact(engine, 'Buzz');
    await receiver.waitFor(1);
    const { thread } = engine.server.worker!.sender as { thread?: Thread };
    assert.ok(thread, 'the engine sends from a thread');
    await thread.terminate();
    const [first, second] = await receiver.waitFor(2);
    assert.equal(second!.headers['x-protocol-delivery'], first!.headers['x-protocol-delivery']);
    assert.equal(second!.body, first!.body);
    const [delivery] = (await engine.api('GET', `/webhooks/${webhook.id}/deliveries`)).body.data;
    const done = await engine.waitForDelivery(delivery.id, (d) => d.status === 'succeeded');
    assert.equal(done.attempt_count, 1, 'the attempt cut off by the crash has no outcome and is not recorded');
  });
});

describe('isolation', () => {
  test('200 changes reach a healthy endpoint while another endpoint hangs', async () => {
    const { receiver, engine } = await setup({ PROTOCOL_DELIVERY_TIMEOUT: '30s' }, (request) => (request.path === '/hang' ? { hang: true } : { status: 200 }));
    await register(engine, `${receiver.url}/hang`, ['contact.created']);
    await register(engine, `${receiver.url}/healthy`, ['contact.created']);
    for (let i = 0; i < 200; i++) await createContact(engine, `user${i}`);
    const healthy = await receiver.waitFor(200, { filter: (r) => r.path === '/healthy', timeoutMs: 20_000 });
    assert.equal(new Set(healthy.map((r) => JSON.parse(r.body).payload.id)).size, 200);
    const hanging = receiver.received.filter((r) => r.path === '/hang').length;
    assert.ok(hanging <= 16, `at most the per-webhook cap is held by the hanging endpoint (${hanging})`);
  });
});

describe('SSRF at connect time', () => {
  test('a name that rebinds to loopback after registration is refused when dialled', async () => {
    const receiver = await startReceiver();
    cleanup.push(() => receiver.close());
    const lookup = fakeLookup({ 'rebind.example.com': (call) => (call === 1 ? ['93.184.215.14'] : ['127.0.0.1']) });
    const engine = await startEngine({ PROTOCOL_ALLOW_PRIVATE_URLS: '0', PROTOCOL_RETRY_SCHEDULE: '1h' }, { lookup });
    cleanup.push(() => engine.close());
    const webhook = await register(engine, `http://rebind.example.com:${receiver.port}/hook`);
    assert.ok(webhook.id, 'registration saw a public address');
    await createContact(engine, 'Rebind');
    const [delivery] = (await engine.api('GET', `/webhooks/${webhook.id}/deliveries`)).body.data;
    const blocked = await engine.waitForDelivery(delivery.id, (d) => d.attempts.length === 1);
    assert.match(blocked.attempts[0].error, /rebind.example.com resolves to 127.0.0.1, a loopback address/);
    assert.equal(blocked.attempts[0].error_stage, 'connect');
    assert.equal(receiver.received.length, 0, 'nothing reached the loopback receiver');
  });
});

// The README's framework examples, run for real: each gets a signed delivery over HTTP and
// a tampered one.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { serve } from '@hono/node-server';
import { signWebhook, type WebhookEvent } from '@protocol/sdk';
import * as express from './express.js';
import * as fastify from './fastify.js';
import * as hono from './hono.js';
import { POST } from './nextjs-route.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const body = JSON.stringify({ id: 'a056V7R7NmNRjl70', type: 'message.created', payload: { id: 'SIuAFUNKdSYHZF2w', conversation_id: 'xgQQXg3hrtjh7AvZ', message: 'Kevin!' } });
const signed = () => ({ 'content-type': 'application/json', ...signWebhook({ id: 'a056V7R7NmNRjl70', timestamp: Math.floor(Date.now() / 1000), body, secrets: [secret] }) });
const closers: Array<() => unknown> = [];
after(async () => {
  for (const close of closers) await close();
});

async function exercise(url: string, received: WebhookEvent[]) {
  const ok = await fetch(url, { method: 'POST', headers: signed(), body });
  assert.equal(ok.status, 204);
  assert.equal(received.at(-1)?.type, 'message.created');
  const tampered = await fetch(url, { method: 'POST', headers: signed(), body: body.replace('Kevin!', 'Marv!') });
  assert.equal(tampered.status, 400);
  assert.equal(await tampered.text(), 'No matching signature');
  assert.equal(received.length, 1);
}

test('Express with express.raw', async () => {
  const received: WebhookEvent[] = [];
  const server = express.webhookApp(secret, (e) => received.push(e)).listen(0, '127.0.0.1');
  closers.push(() => server.close());
  await new Promise((resolve) => server.once('listening', resolve));
  await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/protocol`, received);
});

test('Fastify with a buffer content-type parser', async () => {
  const received: WebhookEvent[] = [];
  const app = fastify.webhookApp(secret, (e) => received.push(e));
  closers.push(() => app.close());
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  await exercise(`${url}/webhooks/protocol`, received);
});

test('Hono with c.req.text()', async () => {
  const received: WebhookEvent[] = [];
  const app = hono.webhookApp(secret, (e) => received.push(e));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  closers.push(() => server.close());
  await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/protocol`, received);
});

test('a Next.js route handler with request.text()', async () => {
  process.env.PROTOCOL_WEBHOOK_SECRET = secret;
  const ok = await POST(new Request('http://localhost/api/webhooks/protocol', { method: 'POST', headers: signed(), body }));
  assert.equal(ok.status, 204);
  const bad = await POST(new Request('http://localhost/api/webhooks/protocol', { method: 'POST', headers: { ...signed(), 'webhook-timestamp': '1' }, body }));
  assert.equal(bad.status, 400);
  assert.equal(await bad.text(), 'Message timestamp too old');
});

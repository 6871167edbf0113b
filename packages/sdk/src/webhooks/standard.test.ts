// The Standard Webhooks spec's published vector, and a cross-check with the standardwebhooks
// package in both directions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { signWebhook, standardSignature } from './sign.js';
import { verifyWebhook } from './verify.js';

test('the published Standard Webhooks vector', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  assert.equal(standardSignature(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  const headers = { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
  assert.deepEqual(verifyWebhook('{"test": 2432232314}', headers, secret, { now: 1614265330 }), { test: 2432232314 });
});

test('we sign, standardwebhooks verifies; it signs, we verify', () => {
  const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
  const body = JSON.stringify({ id: 'evt', type: 'group.created', payload: { name: 'Plaza ☃' } });
  const now = Math.floor(Date.now() / 1000);
  const ours = signWebhook({ id: 'evt', timestamp: now, body, secrets: [secret] });
  assert.deepEqual(new Webhook(secret).verify(body, ours), JSON.parse(body));
  const theirs = new Webhook(secret).sign('evt', new Date(now * 1000), body);
  assert.equal(theirs, ours['webhook-signature']);
  const event = verifyWebhook(Buffer.from(body), new Headers({ 'webhook-id': 'evt', 'webhook-timestamp': String(now), 'webhook-signature': theirs }), secret);
  assert.equal(event.type, 'group.created');
  // Raw bytes as a Uint8Array, headers as Node's IncomingHttpHeaders (arrays allowed).
  assert.equal(verifyWebhook(new Uint8Array(Buffer.from(body)), { 'Webhook-Id': ['evt'], 'webhook-timestamp': String(now), 'webhook-signature': `v1,bad ${theirs}` }, secret).id, 'evt');
  assert.throws(() => new Webhook(secret).verify(`${body} `, ours));
  assert.throws(() => verifyWebhook(JSON.parse(body), ours, secret), /raw body/);
  assert.throws(() => verifyWebhook('not json', signWebhook({ id: 'x', timestamp: now, body: 'not json', secrets: [secret] }), secret), /not JSON/);
});

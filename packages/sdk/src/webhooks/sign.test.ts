// Known answers from shared/test-vectors/signatures.json, for both headers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { protocolSignature, signWebhook, standardSignature } from './sign.js';
import { verifyWebhook, WebhookVerificationError } from './verify.js';

const VECTORS = [
  {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'a056V7R7NmNRjl70',
    timestamp: 705103200,
    body: '{"id":"a056V7R7NmNRjl70","type":"conversation.updated","payload":{"id":"WAz8eIbvDR60rouK"}}',
    x_protocol_signature: '6fc2e76e2ef14389cd30141888e81e1616283808bb094e1dff8191cab5688f3c',
    webhook_signature: 'v1,HDuES/IoJyN6XcMKyxdaKfXw0Gl9f7Upe7Pu99nFx7Q=',
  },
  {
    secret: 'whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
    id: 'SIuAFUNKdSYHZF2w',
    timestamp: 1764201600,
    body: '{"id":"SIuAFUNKdSYHZF2w","type":"message.updated","payload":{"id":"SIuAFUNKdSYHZF2w","conversation_id":"xgQQXg3hrtjh7AvZ","message":"I’m traveling with my dad. He’s at a meeting. I hate meetings.","reactions":[],"attachments":[],"read_at":705103200,"created_at":692233200,"updated_at":692233200}}',
    x_protocol_signature: '123118f6a96443c95cb20d53d1fe8dffb331f188a192c734e18e052af4572cd8',
    webhook_signature: 'v1,4nO9R/b36MBr1ncGxQAQY474bCLt40PJxwLMwQWw3hE=',
  },
  {
    secret: 'whsec_q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=',
    id: 'ZYjVAbCE9g5XRlra',
    timestamp: 1800000000,
    body: '{"id":"ZYjVAbCE9g5XRlra","type":"group.deleted","payload":{"id":"l7cGNIBKZiNJ6wqF","name":"Plaza Hotel ☃"}}',
    x_protocol_signature: 'cf5749c61717934827d49e2d9ec14f56c724e0082b780b73be1d3bc8d32e15ad',
    webhook_signature: 'v1,gDArTWdJQNkY0pHprZcueeDH0WplLBvI7kWdETp2zAc=',
  },
];

test('known answers for x-protocol-signature and webhook-signature', () => {
  for (const v of VECTORS) {
    assert.equal(protocolSignature(v.secret, v.body), v.x_protocol_signature);
    assert.equal(protocolSignature(v.secret, Buffer.from(v.body)), v.x_protocol_signature, 'bytes and strings sign alike');
    assert.equal(standardSignature(v.secret, v.id, v.timestamp, v.body), v.webhook_signature);
    const headers = signWebhook({ id: v.id, timestamp: v.timestamp, body: v.body, secrets: [v.secret] });
    assert.deepEqual(headers, { 'webhook-id': v.id, 'webhook-timestamp': String(v.timestamp), 'webhook-signature': v.webhook_signature, 'x-protocol-signature': v.x_protocol_signature });
    assert.equal(verifyWebhook(v.body, headers, v.secret, { now: v.timestamp }).id, v.id);
  }
});

test('rotation: one signature per secret; the body-only signature keeps the old secret', () => {
  const [a, b] = VECTORS;
  const headers = signWebhook({ id: a!.id, timestamp: a!.timestamp, body: a!.body, secrets: [b!.secret, a!.secret], protocolSecret: a!.secret });
  assert.equal(headers['webhook-signature'].split(' ').length, 2);
  assert.equal(headers['x-protocol-signature'], a!.x_protocol_signature);
  for (const secret of [a!.secret, b!.secret]) assert.equal(verifyWebhook(a!.body, headers, secret, { now: a!.timestamp }).type, 'conversation.updated');
});

test('verification failures say what is wrong', () => {
  const v = VECTORS[0]!;
  const headers = signWebhook({ id: v.id, timestamp: v.timestamp, body: v.body, secrets: [v.secret] });
  const fails = (body: string, h: Record<string, string>, message: RegExp, options = {}) =>
    assert.throws(() => verifyWebhook(body, h, v.secret, { now: v.timestamp, ...options }), (e: unknown) => e instanceof WebhookVerificationError && message.test(e.message));
  fails(v.body, { ...headers, 'webhook-signature': VECTORS[1]!.webhook_signature }, /No matching signature/);
  fails(v.body + ' ', headers, /No matching signature/);
  fails(v.body, { ...headers, 'webhook-id': '' }, /Missing webhook-id/);
  fails(v.body, { 'webhook-id': v.id, 'webhook-signature': v.webhook_signature }, /Missing webhook-timestamp/);
  fails(v.body, headers, /too old/, { now: v.timestamp + 301 });
  fails(v.body, headers, /too new/, { now: v.timestamp - 301 });
  fails(v.body, { 'x-protocol-signature': v.x_protocol_signature }, /Missing webhook-id/);
  assert.equal(verifyWebhook(v.body, { 'x-protocol-signature': v.x_protocol_signature }, v.secret, { allowUntimestamped: true }).id, v.id);
  fails(v.body, { 'x-protocol-signature': '00' }, /No matching signature/, { allowUntimestamped: true });
});

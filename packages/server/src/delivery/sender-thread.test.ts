import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { verifyWebhook } from '@protocol/sdk';
import { claimedDelivery, TEST_SECRET } from '../test-support/claimed.js';
import { startReceiver } from '../test-support/receiver.js';
import { createThreadedSender, packAnswer, packSend, SenderThreadError, unpackAnswers, unpackSends, type Answer, type Packed } from './sender-thread.js';

const receiver = await startReceiver((request) => (request.path === '/hang' ? { hang: true } : request.path === '/gone' ? { status: 410, body: 'gone' } : { status: 200, body: 'ok' }));
after(() => receiver.close());

const delivery = (path: string) => claimedDelivery(`${receiver.url}${path}`);
const options = { timeoutMs: 500, allowPrivateUrls: true, connectionsPerOrigin: 8 };
/** An attempt to an endpoint that never answers, once its request has arrived there (wrapped: awaiting it would wait for its end). */
async function hanging(sender: ReturnType<typeof createThreadedSender>) {
  const hang = delivery('/hang');
  const attempt = sender.send(hang);
  await receiver.waitFor(1, { filter: (r) => r.headers['x-protocol-delivery'] === hang.id });
  return { attempt };
}

test('sends signed POSTs from its thread and answers with each attempt, in any number at once', async () => {
  const sender = createThreadedSender(options);
  try {
    const deliveries = Array.from({ length: 50 }, () => delivery('/ok'));
    const sent = await Promise.all(deliveries.map((d) => sender.send(d)));
    sent.forEach((attempt, i) => {
      assert.equal(attempt.delivery, deliveries[i], 'each answer is matched to its own delivery');
      assert.equal(JSON.parse(attempt.requestHeadersJson)['x-protocol-delivery'], deliveries[i]!.id, "and is that delivery's own attempt");
      assert.equal(attempt.statusCode, 200);
      assert.equal(attempt.responseBody, 'ok');
      assert.equal(attempt.errorStage, null);
    });
    const arrived = receiver.received.filter((r) => deliveries.some((d) => d.id === r.headers['x-protocol-delivery']));
    assert.equal(arrived.length, 50);
    for (const request of arrived) assert.equal(verifyWebhook(request.body, request.headers as Record<string, string>, TEST_SECRET).type, 'contact.created');

    // The ids that cross to the thread are tickets, handed out again once answered: a second wave,
    // sent while one attempt still hangs under its own, gets each its own answer all the same.
    const hanging = sender.send(delivery('/hang'));
    const again = Array.from({ length: 50 }, () => delivery('/ok'));
    (await Promise.all(again.map((d) => sender.send(d)))).forEach((attempt, i) => {
      assert.equal(attempt.delivery, again[i]);
      assert.equal(JSON.parse(attempt.requestHeadersJson)['x-protocol-delivery'], again[i]!.id);
    });
    assert.equal((await hanging).errorStage, 'timeout');

    const gone = await sender.send(delivery('/gone'));
    assert.deepEqual([gone.statusCode, gone.errorStage, gone.responseBody], [410, 'http', 'gone']);
    const timedOut = await sender.send(delivery('/hang'));
    assert.deepEqual([timedOut.statusCode, timedOut.errorStage], [null, 'timeout']);
  } finally {
    await sender.close();
  }
});

test('abortAll cuts attempts short at once; a closed sender refuses new ones', async () => {
  const sender = createThreadedSender({ ...options, timeoutMs: 30_000 });
  const { attempt } = await hanging(sender);
  sender.abortAll();
  const aborted = await attempt;
  assert.equal(aborted.statusCode, null);
  assert.match(aborted.error!, /aborted/);
  await sender.close();
  await assert.rejects(sender.send(delivery('/ok')), SenderThreadError);
});

test('a thread that dies fails what it held, and a new thread sends the next', async () => {
  const sender = createThreadedSender({ ...options, timeoutMs: 30_000 });
  try {
    const { attempt: held } = await hanging(sender);
    const dead = sender.thread;
    await dead.terminate();
    await assert.rejects(held, SenderThreadError);
    const next = await sender.send(delivery('/ok'));
    assert.equal(next.statusCode, 200);
    assert.notEqual(sender.thread, dead);
  } finally {
    await sender.close();
  }
});

test('an answer from a thread given up on settles nothing: its tickets belong to the new thread now', async () => {
  const sender = createThreadedSender({ ...options, timeoutMs: 30_000 });
  try {
    const { attempt: failed } = await hanging(sender);
    // The thread reports an error and is given up on, but it is still running: answers it had
    // on their way may arrive after the new thread has handed out the same tickets.
    const old = sender.thread;
    old.emit('error', new Error('boom'));
    await assert.rejects(failed, SenderThreadError);
    const { attempt: pending } = await hanging(sender);
    const stale: Packed = [];
    packAnswer(stale, 0, { startedAt: 0, durationMs: 1, statusCode: 299, requestHeadersJson: '{}', responseHeadersJson: '{}', responseBody: 'stale', error: null, errorStage: null });
    old.emit('message', { type: 'sent', batch: stale });
    sender.abortAll();
    const settled = await pending;
    assert.equal(settled.statusCode, null, 'settled by its own thread (aborted), not by the stale answer');
    assert.match(settled.error!, /aborted/);
    await old.terminate();
  } finally {
    await sender.close();
  }
});

test('a thread that cannot start leaves the sending to an in-process sender', async () => {
  const sender = createThreadedSender(options, new URL('data:text/javascript,throw new Error("cannot start")'));
  try {
    await new Promise((resolve) => sender.thread.once('exit', resolve));
    const sent = await sender.send(delivery('/ok'));
    assert.equal(sent.statusCode, 200);
  } finally {
    await sender.close();
  }
});

test('a batch crosses as flat values: a delivery takes only what sending needs, an answer every field, each with its ticket', () => {
  const [a, b] = [claimedDelivery('http://127.0.0.1:1/a'), { ...claimedDelivery('http://127.0.0.1:1/b'), secrets: ['whsec_new', 'whsec_old'], attempt: 3 }];
  const sends: Packed = [];
  packSend(sends, 7, a);
  packSend(sends, 0, b);
  const pick = ({ id, eventId, eventType, url, body, attempt, secrets, protocolSecret }: typeof a) => ({ id, eventId, eventType, url, body, attempt, secrets, protocolSecret });
  assert.deepEqual([...unpackSends(structuredClone(sends))], [
    [7, pick(a)],
    [0, pick(b)],
  ]);

  const answered: Answer = { startedAt: 1_700_000_000_123, durationMs: 12, statusCode: 429, requestHeadersJson: '{"a":"1"}', responseHeadersJson: '{"retry-after":"5"}', responseBody: 'slow down', error: 'HTTP 429', errorStage: 'http', retryAfterMs: 5_000 };
  const failed: Answer = { startedAt: 1_700_000_000_456, durationMs: 500, statusCode: null, requestHeadersJson: '{}', responseHeadersJson: null, responseBody: null, error: 'no response within 500 ms', errorStage: 'timeout' };
  const answers: Packed = [];
  packAnswer(answers, 3, answered);
  packAnswer(answers, 1, failed);
  assert.deepEqual([...unpackAnswers(structuredClone(answers))], [
    [3, answered],
    [1, { ...failed, retryAfterMs: undefined }],
  ]);
});

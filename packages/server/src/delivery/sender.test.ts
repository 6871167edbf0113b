import assert from 'node:assert/strict';
import http from 'node:http';
import { after, test } from 'node:test';
import { claimedDelivery } from '../test-support/claimed.js';
import { createSender, KEPT_BODY_BYTES, type Sender, type SenderOptions } from './sender.js';

// Answers the in-process sender's edge cases need, some of which break off mid-answer.
const arrived: string[] = [];
const open = new Set<http.ServerResponse>();
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    arrived.push(req.url!);
    open.add(res);
    res.on('close', () => open.delete(res));
    if (req.url === '/stall-503') {
      res.writeHead(503, { 'retry-after': '7' });
      res.write('partial'); // and never ends
    } else if (req.url === '/stall-200') {
      res.writeHead(200);
      res.write('partial');
    } else if (req.url === '/long') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('y'.repeat(200_000));
    } else if (req.url === '/headers') {
      res.setHeader('x-many', ['a', 'b']);
      res.writeHead(429, { 'retry-after': '3' });
      res.end('slow down');
    } else if (req.url !== '/hang') {
      res.end('ok');
    }
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
after(() => {
  open.forEach((res) => res.destroy());
  server.close();
});

const delivery = (path: string) => claimedDelivery(`${base}${path}`);

/** Runs `use` with a fresh in-process sender (these options unless overridden), closed afterwards. */
async function withSender(overrides: Partial<SenderOptions>, use: (sender: Sender) => Promise<void>) {
  const sender = createSender({ timeoutMs: 5_000, allowPrivateUrls: true, connectionsPerOrigin: 4, ...overrides });
  try {
    await use(sender);
  } finally {
    await sender.close();
  }
}

test('a status line followed by a body that stalls: the answer stands at the deadline, with what was read', async () => {
  await withSender({ timeoutMs: 300 }, async (sender) => {
    const [failed, succeeded] = await Promise.all([sender.send(delivery('/stall-503')), sender.send(delivery('/stall-200'))]);
    assert.deepEqual([failed.statusCode, failed.errorStage, failed.error, failed.responseBody, failed.retryAfterMs], [503, 'http', 'HTTP 503', 'partial', 7000]);
    assert.deepEqual([succeeded.statusCode, succeeded.errorStage, succeeded.error, succeeded.responseBody], [200, null, null, 'partial']);
    assert.ok(failed.durationMs >= 300 && succeeded.durationMs >= 300, 'both were cut at their deadline, not before');
  });
});

test('a long answer is read up to the limit and kept to its first 4 KiB; headers are kept, repeated ones joined', async () => {
  await withSender({}, async (sender) => {
    const long = await sender.send(delivery('/long'));
    assert.deepEqual([long.statusCode, long.errorStage, long.responseBody!.length], [200, null, KEPT_BODY_BYTES]);
    assert.equal(JSON.parse(long.responseHeadersJson!)['content-type'], 'text/plain');
    const slow = await sender.send(delivery('/headers'));
    assert.deepEqual([slow.statusCode, slow.errorStage, slow.responseBody, JSON.parse(slow.responseHeadersJson!)['x-many'], slow.retryAfterMs], [429, 'http', 'slow down', 'a, b', 3000]);
    assert.equal((await sender.send(delivery('/ok'))).statusCode, 200, 'the sender goes on after cutting an answer short');
  });
});

test('an attempt still waiting for a connection times out at its deadline and is never sent', async () => {
  await withSender({ timeoutMs: 300, connectionsPerOrigin: 1 }, async (sender) => {
    const hanging = sender.send(delivery('/hang'));
    // Queued 10 ms later: when the hung attempt is cut and frees the connection, the queued one
    // has at most that long left, less than the sweeper's interval. Sent then, its quick answer
    // came before its own cut and stood (a race this test lost now and then).
    await new Promise((resolve) => setTimeout(resolve, 10));
    const [hung, late] = await Promise.all([hanging, sender.send(delivery('/queued'))]);
    assert.deepEqual([hung.statusCode, hung.errorStage], [null, 'timeout']);
    assert.deepEqual([late.statusCode, late.errorStage], [null, 'timeout']);
    assert.match(late.error!, /no response within 300 ms/);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the one connection is free again by now
    assert.ok(!arrived.includes('/queued'), 'the queued attempt was not written once its connection freed');
  });
});

test('abortAll cuts attempts in flight and queued ones at once, as failures', async () => {
  await withSender({ timeoutMs: 30_000, connectionsPerOrigin: 1 }, async (sender) => {
    const sent = [sender.send(delivery('/hang')), sender.send(delivery('/queued-too'))];
    await new Promise((resolve) => setTimeout(resolve, 100));
    sender.abortAll();
    for (const attempt of await Promise.all(sent)) {
      assert.deepEqual([attempt.statusCode, attempt.errorStage], [null, 'connect']);
      assert.match(attempt.error!, /aborted: the worker is stopping/);
    }
    assert.ok(!arrived.includes('/queued-too'));
  });
});

test('a literal non-public address is refused before dialling when private URLs are not allowed', async () => {
  await withSender({ allowPrivateUrls: false }, async (sender) => {
    const refused = await sender.send(delivery('/private'));
    assert.deepEqual([refused.statusCode, refused.errorStage, refused.responseBody], [null, 'connect', null]);
    assert.match(refused.error!, /refused to connect: 127\.0\.0\.1 is not a public address/);
    assert.ok(!arrived.includes('/private'), 'nothing was sent');
  });
});

// The receiver every system delivers to, in its own process: it reads the body, checks the
// HMAC (x-protocol-signature, keyed by the path's secret), answers 200, and notes when each
// delivery arrived. The orchestrator talks to it over IPC.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

const secrets = new Map<string, string>();
let arrivals: Array<[string, number]> = [];
let bad = 0;
let up = true;
const now = () => performance.timeOrigin + performance.now();

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (!up) {
      res.writeHead(503).end();
      return;
    }
    const body = Buffer.concat(chunks);
    const secret = secrets.get(req.url ?? '');
    const signature = req.headers['x-protocol-signature'];
    const expected = secret ? createHmac('sha256', secret).update(body).digest() : undefined;
    if (!expected || typeof signature !== 'string' || signature.length !== 64 || !timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      bad++;
      res.writeHead(400).end();
      return;
    }
    // The object id is the key latency is measured on: the API's ack (or the enqueue) names it too.
    const id = /"payload":\{"id":"([^"]+)"/.exec(body.toString('latin1'))?.[1] ?? '';
    arrivals.push([id, now()]);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});

process.on('message', (message: { type: string; secrets?: Record<string, string>; up?: boolean }) => {
  if (message.type === 'secrets') for (const [path, secret] of Object.entries(message.secrets!)) secrets.set(path, secret);
  if (message.type === 'reset') {
    arrivals = [];
    bad = 0;
    secrets.clear();
  }
  if (message.type === 'reset-arrivals') arrivals = [];
  if (message.type === 'up') up = message.up!;
  if (message.type === 'collect') process.send!({ type: 'collected', arrivals, bad });
  if (message.type === 'count') process.send!({ type: 'count', count: arrivals.length, bad });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ type: 'ready', port: (server.address() as { port: number }).port }));

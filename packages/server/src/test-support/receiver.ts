import http from 'node:http';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  path: string;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Never answer (the connection stays open until the client gives up or the receiver closes). */
  hang?: boolean;
  delayMs?: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** How the next request is answered; defaults to 200. */
  respond: (request: Received, index: number) => Reply;
  /** Resolves once `count` requests (matching `filter`) have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, options?: { timeoutMs?: number; filter?: (r: Received) => boolean }): Promise<Received[]>;
  close(): Promise<void>;
}

/** A webhook receiver on a loopback port that records every request and answers as told. */
export async function startReceiver(respond: Receiver['respond'] = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<http.ServerResponse>();
  const receiver = { received, respond } as Receiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '/', at: Date.now() };
      const index = received.push(request) - 1;
      waiters.forEach((w) => w());
      const reply = receiver.respond(request, index);
      if (reply.hang) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const send = () => {
        res.writeHead(reply.status ?? 200, reply.headers ?? {});
        res.end(reply.body ?? 'ok');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  receiver.port = port;
  receiver.url = `http://127.0.0.1:${port}`;
  receiver.waitFor = (count, options = {}) =>
    new Promise((resolve, reject) => {
      const matching = () => (options.filter ? received.filter(options.filter) : received);
      const check = () => {
        if (matching().length >= count) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(matching());
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`expected ${count} requests, got ${matching().length}`));
      }, options.timeoutMs ?? 15_000);
      waiters.add(check);
      check();
    });
  receiver.close = async () => {
    hanging.forEach((res) => res.destroy());
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

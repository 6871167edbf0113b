import http from 'node:http';
import os from 'node:os';
import { EVENT_TYPES, ProtocolError, verifyWebhook, WebhookVerificationError, type EventType } from '@protocol/sdk';
import { CliError, type Remote } from './remote.js';
import { summarize } from './summary.js';

export interface ListenOptions {
  forwardTo?: string;
  events?: EventType[];
  /** Where lines go; tests capture them. */
  out?: (line: string) => void;
}

/** Headers that belong to one hop and must not be forwarded as they are. */
const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate']);

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * `protocol listen`: the local-development loop. A receiver on a free loopback port, a
 * temporary webhook pointing at it, one verified line per delivery, and (with --forward-to)
 * the exact body and headers passed on to your app, whose status goes back to Protocol.
 * Resolves with a `stop` that deletes the webhook.
 */
export async function listen(remote: Remote, options: ListenOptions): Promise<{ url: string; webhookId: string; secret: string; stop(): Promise<void> }> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  let secret = '';
  const server = http.createServer(async (request, response) => {
    const body = await readBody(request);
    const time = new Date().toISOString().slice(11, 19);
    let event;
    try {
      event = verifyWebhook(body, request.headers, secret);
    } catch (error) {
      out(`${time}  ✗ rejected a request: ${error instanceof WebhookVerificationError ? error.message : String(error)}`);
      response.writeHead(400).end();
      return;
    }
    out(`${time}  ${event.type.padEnd(20)}  ${event.id}  ${summarize(event)}`);
    if (!options.forwardTo) {
      response.writeHead(200).end();
      return;
    }
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name, value]) => !HOP_BY_HOP.has(name) && typeof value === 'string')) as Record<string, string>;
    try {
      const forwarded = await fetch(options.forwardTo, { method: 'POST', headers, body: new Uint8Array(body), redirect: 'manual', signal: AbortSignal.timeout(15_000) });
      const answer = Buffer.from(await forwarded.arrayBuffer());
      out(`${time}  → ${forwarded.status} from ${options.forwardTo} for ${event.id}`);
      response.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'text/plain' }).end(answer);
    } catch (error) {
      out(`${time}  → could not forward ${event.id} to ${options.forwardTo}: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
      response.writeHead(502).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;

  let webhook;
  try {
    webhook = await remote.client.webhooks.create({ name: `protocol listen on ${os.hostname()} (pid ${process.pid})`, url, events: options.events ?? [...EVENT_TYPES] });
  } catch (error) {
    server.close();
    if (error instanceof ProtocolError && error.param === 'url') {
      throw new CliError(`The server refused the local receiver's URL (${error.message}). Start the server with PROTOCOL_ALLOW_PRIVATE_URLS=1 for local development.`);
    }
    throw error;
  }
  secret = webhook.secret;
  let stopped: Promise<void> | undefined;
  return {
    url,
    webhookId: webhook.id,
    secret,
    stop: () =>
      (stopped ??= (async () => {
        await remote.client.webhooks.delete(webhook.id).catch(() => {});
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })()),
  };
}

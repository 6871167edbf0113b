import { timingSafeEqual } from 'node:crypto';
import type { WebhookEvent } from '../events.js';
import { protocolSignature, standardSignature, type RawBody } from './sign.js';

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
}

/** Plain objects, Node's `IncomingHttpHeaders` and Fetch `Headers` all work. */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Also accept requests that carry only the docs' body-only `x-protocol-signature`. */
  allowUntimestamped?: boolean;
  /** Unix seconds; for tests. */
  now?: number;
}

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function parse(body: RawBody): WebhookEvent {
  try {
    return JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError('The body is not JSON');
  }
}

/**
 * Verifies a delivery and returns its typed event. Standard Webhooks headers are checked: any
 * listed `v1` signature may match (so rotation works) and the timestamp must be within the
 * tolerance, so a captured request cannot be replayed later. Comparisons are constant-time.
 */
export function verifyWebhook(rawBody: RawBody, headers: HeadersLike, secret: string, options: VerifyOptions = {}): WebhookEvent {
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    throw new WebhookVerificationError('Pass the raw body as a string, Buffer or Uint8Array, not a parsed object');
  }
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');

  if (!id && !timestamp && !signatures && options.allowUntimestamped) {
    const signature = header(headers, 'x-protocol-signature');
    if (!signature) throw new WebhookVerificationError('Missing x-protocol-signature header');
    if (!safeEqual(protocolSignature(secret, rawBody), signature.trim().toLowerCase())) throw new WebhookVerificationError('No matching signature');
    return parse(rawBody);
  }
  if (!id) throw new WebhookVerificationError('Missing webhook-id header');
  if (!timestamp) throw new WebhookVerificationError('Missing webhook-timestamp header');
  if (!signatures) throw new WebhookVerificationError('Missing webhook-signature header');

  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp.trim()) || !Number.isSafeInteger(seconds)) throw new WebhookVerificationError('Invalid webhook-timestamp header');
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (seconds < now - tolerance) throw new WebhookVerificationError('Message timestamp too old');
  if (seconds > now + tolerance) throw new WebhookVerificationError('Message timestamp too new');

  const expected = standardSignature(secret, id, seconds, rawBody);
  const matched = signatures
    .split(' ')
    .filter((candidate) => candidate.startsWith('v1,'))
    .some((candidate) => safeEqual(candidate, expected));
  if (!matched) throw new WebhookVerificationError('No matching signature');
  return parse(rawBody);
}

import { createHmac } from 'node:crypto';

/**
 * Webhook signing, shared by the server (which signs every delivery with it) and receivers'
 * tests. Two schemes travel on every request:
 * - `x-protocol-signature`: lowercase hex HMAC-SHA256 of the raw body, keyed with the secret
 *   string exactly as shown (`whsec_…`), which is what the docs' snippet checks;
 * - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 *   keyed with the base64-decoded part after `whsec_`, one signature per valid secret.
 */
export const SECRET_PREFIX = 'whsec_';

export type RawBody = string | Uint8Array;

/** The key bytes of a `whsec_` secret, as Standard Webhooks defines them. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/** `x-protocol-signature`: hex HMAC of the body keyed with the secret string itself. */
export function protocolSignature(secret: string, body: RawBody): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** One Standard Webhooks signature, `v1,<base64>`. */
export function standardSignature(secret: string, id: string, timestamp: number, body: RawBody): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export interface SignOptions {
  /** The event id (`webhook-id`). */
  id: string;
  /** Unix seconds of this attempt (`webhook-timestamp`). */
  timestamp: number;
  body: RawBody;
  /** Every currently valid secret, newest first: each one signs `webhook-signature`. */
  secrets: readonly string[];
  /**
   * The secret for the single-valued `x-protocol-signature`; during a rotation's overlap it is
   * the old one, so receivers still on it keep working. Defaults to the first secret.
   */
  protocolSecret?: string;
}

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'x-protocol-signature': string;
};

export function signWebhook(options: SignOptions): SignedHeaders {
  if (options.secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  return {
    'webhook-id': options.id,
    'webhook-timestamp': String(options.timestamp),
    'webhook-signature': options.secrets.map((secret) => standardSignature(secret, options.id, options.timestamp, options.body)).join(' '),
    'x-protocol-signature': protocolSignature(options.protocolSecret ?? options.secrets[0]!, options.body),
  };
}

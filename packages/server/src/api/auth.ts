import type { FastifyRequest } from 'fastify';
import { ProtocolError } from '../errors.js';
import type { Store } from '../store/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The id of the account the API key belongs to; every store call is scoped by it. */
    account: string;
  }
}

/** The key from `Authorization: Bearer <key>` or Basic with the key as username and no password. */
export function keyFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!scheme || !value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  return undefined;
}

export function authenticate(store: Store) {
  return async (request: FastifyRequest) => {
    const key = keyFromHeader(request.headers.authorization);
    if (!key) {
      throw new ProtocolError('unauthorized', 'Missing API key: send Authorization: Bearer <api key>, or HTTP Basic with the key as username');
    }
    const account = await store.accounts.authenticate(key);
    if (!account) throw new ProtocolError('unauthorized', 'Invalid API key');
    request.account = account;
  };
}

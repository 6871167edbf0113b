import type { FastifyRequest } from 'fastify';
import { ProtocolError } from '../errors.js';
import type { Store } from '../store/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The id of the account the API key belongs to; every store call is scoped by it. */
    account: string;
    /** The API key's id (a session's key): what rate limits count against. */
    keyId: string;
  }
}

/** The dashboard's session cookie: httpOnly and SameSite=Strict, so scripts never see it. */
export const SESSION_COOKIE = 'protocol_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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

/**
 * A cookie rides along with any request the browser makes, including a forged cross-site form.
 * SameSite=Strict already keeps it off those; on top, a cookie-authenticated write must come from
 * this very origin.
 */
export function assertSameOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const sameOrigin = origin ? origin === `${request.protocol}://${request.headers.host}` : site === 'same-origin';
  if (!sameOrigin) throw new ProtocolError('unauthorized', 'Cross-site request refused: cookie-authenticated writes must come from the dashboard');
}

export function authenticate(store: Store) {
  return async (request: FastifyRequest) => {
    const key = keyFromHeader(request.headers.authorization);
    if (key) {
      const credential = await store.accounts.authenticate(key);
      if (!credential) throw new ProtocolError('unauthorized', 'Invalid API key');
      request.account = credential.account;
      request.keyId = credential.keyId;
      return;
    }
    const session = request.cookies?.[SESSION_COOKIE];
    if (session) {
      const credential = await store.accounts.authenticateSession(session);
      if (!credential) throw new ProtocolError('unauthorized', 'Your session has ended; sign in again');
      assertSameOrigin(request);
      request.account = credential.account;
      request.keyId = credential.keyId;
      return;
    }
    throw new ProtocolError('unauthorized', 'Missing API key: send Authorization: Bearer <api key>, or HTTP Basic with the key as username');
  };
}

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ProtocolError, notFound } from '../../errors.js';
import type { Store } from '../../store/index.js';
import { IDEMPOTENCY_TTL_MS } from '../../store/idempotency.js';
import { SESSION_COOKIE, assertSameOrigin } from '../auth.js';
import { ApiKey, NewApiKey, NoContent, Page, SessionInfo, Settings } from '../responses.js';
import { IdParams, strictObject } from '../schemas.js';

const SESSION_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Dashboard sign-in: `POST /v1/session {api_key}` exchanges a key for an httpOnly,
 * SameSite=Strict cookie; `DELETE /v1/session` ends it on the server. These run before
 * authentication (the sign-in has no credentials yet).
 */
export function sessionRoutes(app: FastifyInstance, store: Store): void {
  app.post('/session', { schema: { summary: 'Sign in to the dashboard: exchanges an API key for a session cookie', body: strictObject({ api_key: Type.String({ minLength: 1, maxLength: 512 }) }), response: { 201: SessionInfo } } }, async (request, reply) => {
    assertSameOrigin(request);
    const session = await store.accounts.createSession((request.body as { api_key: string }).api_key, SESSION_TTL_SECONDS);
    if (!session) throw new ProtocolError('unauthorized', 'That API key is not valid', 'api_key');
    const account = await store.accounts.getAccount(session.account);
    reply.setCookie(SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: '/',
      maxAge: SESSION_TTL_SECONDS,
    });
    reply.status(201);
    return { account };
  });
  app.delete('/session', { schema: { summary: 'Sign out: ends the session on the server', response: { 204: NoContent } } }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) {
      assertSameOrigin(request);
      await store.accounts.deleteSession(token);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });
}

/** Who is signed in (works with a key or a session), the account's API keys, and this server's limits. */
export function accountRoutes(app: FastifyInstance, store: Store, limits: { rateLimit: number; retentionMs: number }): void {
  app.get('/session', { schema: { summary: 'Who is calling', response: { 200: SessionInfo } } }, async (request) => ({ account: await store.accounts.getAccount(request.account) }));
  const settings = {
    retention_seconds: Math.floor(limits.retentionMs / 1000),
    rate_limit_per_second: limits.rateLimit > 0 ? limits.rateLimit : null,
    idempotency_key_ttl_seconds: IDEMPOTENCY_TTL_MS / 1000,
  };
  app.get('/settings', { schema: { summary: 'How long history is kept, the rate limit, how long idempotency keys last', response: { 200: Settings } } }, async () => settings);
  app.get('/api_keys', { schema: { summary: 'List API keys (never the keys themselves)', response: { 200: Page(ApiKey) } } }, async (request) => ({ has_more: false, data: await store.accounts.listKeys(request.account) }));
  app.post('/api_keys', { schema: { summary: 'Create an API key (shown only in this response)', body: strictObject({ name: Type.String({ minLength: 1, maxLength: 255 }) }), response: { 201: NewApiKey } } }, async (request, reply) => {
    const { key, info } = await store.accounts.createKey(request.account, (request.body as { name: string }).name);
    reply.status(201);
    return { ...info, key };
  });
  app.delete('/api_keys/:id', { schema: { summary: 'Revoke an API key', params: IdParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!(await store.accounts.revokeKey(request.account, id))) throw notFound('API key', id);
    return reply.status(204).send();
  });
}

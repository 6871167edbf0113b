import { Type } from '@sinclair/typebox';
import { EVENT_TYPES, type EventType } from '@protocol/sdk';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { invalid } from '../../errors.js';
import { exampleEvent } from '../../delivery/examples.js';
import { urlProblem, type Lookup } from '../../delivery/ssrf.js';
import type { Store } from '../../store/index.js';
import { Delivery, DeliveryDetail, NoContent, Page, Recovered, RotatedSecret, Webhook, WebhookSecret, WebhookWithSecret } from '../responses.js';
import { IdParams, ListQuery, Timestamp, oneOf, strictObject } from '../schemas.js';

export interface WebhookRouteOptions {
  allowPrivateUrls: boolean;
  lookup?: Lookup;
}

const Name = Type.String({ minLength: 1, maxLength: 255 });
const WebhookUrl = Type.String({ minLength: 1, maxLength: 2048 });
const Events = Type.Array(oneOf(EVENT_TYPES), { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true });
const DeliveryStatus = oneOf(['pending', 'succeeded', 'failed'] as const);

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

/** Webhooks (SPEC §6): registration with SSRF checks, secrets and rotation, tests, deliveries, retries. */
export function webhookRoutes(app: FastifyInstance, store: Store, options: WebhookRouteOptions): void {
  const checkUrl = async (url: string | undefined) => {
    if (url === undefined) return;
    const problem = await urlProblem(url, { allowPrivate: options.allowPrivateUrls, lookup: options.lookup });
    if (problem) throw invalid(`The field 'url' ${problem}`, 'url');
  };

  app.get('/webhooks', { schema: { summary: 'List webhooks', querystring: strictObject({ ...ListQuery }), response: { 200: Page(Webhook) } } }, (request) => store.webhooks.list(request.account, request.query as object));
  app.post('/webhooks', { schema: { summary: 'Register a webhook (the response is the only one with its secret)', body: strictObject({ name: Name, url: WebhookUrl, events: Events }), response: { 201: WebhookWithSecret } } }, async (request, reply) => {
    const body = request.body as { name: string; url: string; events: EventType[] };
    await checkUrl(body.url);
    reply.status(201);
    return store.webhooks.create(request.account, body);
  });
  app.get('/webhooks/:id', { schema: { summary: 'Get a webhook', params: IdParams, response: { 200: Webhook } } }, (request: IdRequest) => store.webhooks.get(request.account, request.params.id));
  app.route({
    method: ['PUT', 'PATCH'],
    url: '/webhooks/:id',
    schema: {
      summary: 'Update a webhook: name, URL, events, enabled (PATCH is an alias of PUT)',
      params: IdParams,
      body: strictObject({ name: Type.Optional(Name), url: Type.Optional(WebhookUrl), events: Type.Optional(Events), enabled: Type.Optional(Type.Boolean()) }),
      response: { 200: Webhook },
    } as FastifySchema,
    handler: async (request: IdRequest) => {
      const body = request.body as { url?: string };
      await checkUrl(body.url);
      return store.webhooks.update(request.account, request.params.id, body);
    },
  });
  app.delete('/webhooks/:id', { schema: { summary: 'Delete a webhook', params: IdParams, response: { 204: NoContent } } }, async (request: IdRequest, reply) => {
    await store.webhooks.delete(request.account, request.params.id);
    return reply.status(204).send();
  });

  app.get('/webhooks/:id/secret', { schema: { summary: 'Reveal the signing secret', params: IdParams, response: { 200: WebhookSecret } } }, (request: IdRequest) => store.webhooks.secret(request.account, request.params.id));
  app.post('/webhooks/:id/rotate-secret', { schema: { summary: 'Rotate the signing secret (the old one keeps signing for 24 h)', params: IdParams, response: { 200: RotatedSecret } } }, (request: IdRequest) => store.webhooks.rotateSecret(request.account, request.params.id));
  app.post('/webhooks/:id/test', { schema: { summary: 'Send an example event', params: IdParams, body: strictObject({ type: Type.Optional(oneOf(EVENT_TYPES)) }), response: { 201: Delivery } } }, async (request: IdRequest, reply) => {
    const type = (request.body as { type?: EventType } | undefined)?.type;
    reply.status(201);
    return store.deliveries.sendTest(request.account, request.params.id, exampleEvent, type);
  });
  app.post('/webhooks/:id/recover', { schema: { summary: 'Re-queue failed deliveries since a time', params: IdParams, body: strictObject({ since: Timestamp }), response: { 200: Recovered } } }, async (request: IdRequest) => {
    const { since } = request.body as { since: number };
    if (since > Math.floor(Date.now() / 1000)) throw invalid("The field 'since' is in the future", 'since');
    return store.deliveries.recover(request.account, request.params.id, since);
  });
  app.get('/webhooks/:id/deliveries', { schema: { summary: "List a webhook's deliveries", params: IdParams, querystring: strictObject({ ...ListQuery, status: Type.Optional(DeliveryStatus) }), response: { 200: Page(Delivery) } } }, (request: IdRequest) =>
    store.deliveries.list(request.account, request.params.id, request.query as object),
  );
  app.get('/deliveries/:id', { schema: { summary: 'Get a delivery with its request and every attempt', params: IdParams, response: { 200: DeliveryDetail } } }, (request: IdRequest) => store.deliveries.get(request.account, request.params.id));
  app.post('/deliveries/:id/retry', { schema: { summary: 'Attempt a delivery again now', params: IdParams, response: { 200: Delivery } } }, (request: IdRequest) => store.deliveries.retry(request.account, request.params.id));
}

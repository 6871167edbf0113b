import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '@protocol/sdk';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { Event, Page } from '../responses.js';
import { IdParams, ListQuery, oneOf, strictObject } from '../schemas.js';

export const EventTypeSchema = oneOf(EVENT_TYPES);

export function eventRoutes(app: FastifyInstance, store: Store): void {
  app.get('/events', { schema: { summary: 'List events (the change log)', querystring: strictObject({ ...ListQuery, type: Type.Optional(EventTypeSchema) }), response: { 200: Page(Event) } } }, (request) =>
    store.events.list(request.account, request.query as any),
  );
  app.get('/events/:id', { schema: { summary: 'Get an event', params: IdParams, response: { 200: Event } } }, (request) => store.events.get(request.account, (request.params as { id: string }).id));
}

import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '@protocol/sdk';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { IdParams, ListQuery, oneOf, strictObject } from '../schemas.js';

export const EventTypeSchema = oneOf(EVENT_TYPES);

export function eventRoutes(app: FastifyInstance, store: Store): void {
  app.get('/events', { schema: { querystring: strictObject({ ...ListQuery, type: Type.Optional(EventTypeSchema) }) } }, (request) =>
    store.events.list(request.account, request.query as any),
  );
  app.get('/events/:id', { schema: { params: IdParams } }, (request) => store.events.get(request.account, (request.params as { id: string }).id));
}

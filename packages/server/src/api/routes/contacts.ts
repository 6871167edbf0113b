import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { ListQuery, Url, nullable, strictObject } from '../schemas.js';
import { Contact } from '../responses.js';
import { registerResource } from './resource.js';

export function contactRoutes(app: FastifyInstance, store: Store): void {
  registerResource(app, {
    path: '/contacts',
    noun: 'contact',
    item: Contact,
    operations: store.contacts,
    listQuery: strictObject({ ...ListQuery }),
    createBody: strictObject({
      username: Type.String({ minLength: 1, maxLength: 255 }),
      phone_number: Type.String({ minLength: 1, maxLength: 64 }),
      avatar_url: Type.Optional(nullable(Url)),
      display_name: Type.Optional(nullable(Type.String({ maxLength: 255 }))),
    }),
    updateBody: strictObject({ display_name: Type.Optional(nullable(Type.String({ maxLength: 255 }))) }),
  });
}

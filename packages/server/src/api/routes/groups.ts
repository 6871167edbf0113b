import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { Id, ListQuery, NullableTimestamp, Url, nullable, strictObject } from '../schemas.js';
import { Group } from '../responses.js';
import { registerResource } from './resource.js';

const Name = Type.String({ minLength: 1, maxLength: 255 });
const Description = nullable(Type.String({ maxLength: 4096 }));
const ContactIds = Type.Array(Id, { maxItems: 1000 });

export function groupRoutes(app: FastifyInstance, store: Store): void {
  registerResource(app, {
    path: '/groups',
    noun: 'group',
    item: Group,
    operations: store.groups,
    listQuery: strictObject({ ...ListQuery, archived: Type.Optional(Type.Boolean()) }),
    createBody: strictObject({
      name: Name,
      description: Type.Optional(Description),
      avatar_url: Type.Optional(nullable(Url)),
      contacts: Type.Optional(ContactIds),
    }),
    updateBody: strictObject({
      name: Type.Optional(Name),
      description: Type.Optional(Description),
      avatar_url: Type.Optional(nullable(Url)),
      contacts: Type.Optional(ContactIds),
      archived_at: Type.Optional(NullableTimestamp),
    }),
  });
}

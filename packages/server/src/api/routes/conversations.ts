import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { Id, ListQuery, NullableTimestamp, nullable, strictObject } from '../schemas.js';
import { Conversation } from '../responses.js';
import { registerResource } from './resource.js';

export function conversationRoutes(app: FastifyInstance, store: Store): void {
  registerResource(app, {
    path: '/conversations',
    noun: 'conversation',
    item: Conversation,
    operations: store.conversations,
    listQuery: strictObject({
      ...ListQuery,
      muted: Type.Optional(Type.Boolean()),
      archived: Type.Optional(Type.Boolean()),
      pinned: Type.Optional(Type.Boolean()),
      group_id: Type.Optional(Id),
    }),
    // "Exactly one of" is checked by the store, which can name the field that is wrong.
    createBody: strictObject({ contact_id: Type.Optional(nullable(Id)), group_id: Type.Optional(nullable(Id)) }),
    updateBody: strictObject({
      pinned_message_id: Type.Optional(nullable(Id)),
      is_pinned: Type.Optional(Type.Boolean()),
      is_muted: Type.Optional(Type.Boolean()),
      archived_at: Type.Optional(NullableTimestamp),
    }),
  });
}

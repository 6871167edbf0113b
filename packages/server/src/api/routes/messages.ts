import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { Id, ListQuery, NullableTimestamp, nullable, strictObject } from '../schemas.js';
import { Message } from '../responses.js';
import { registerResource } from './resource.js';

const Text = Type.String({ minLength: 1, maxLength: 65_536 });
const AttachmentIds = Type.Array(Id, { maxItems: 100 });
/** `{emoji_name: [usernames]}`; replaces the message's reactions. */
const Reactions = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_+-]{1,64}$' }), Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 1000 }), {
  maxProperties: 100,
});

export function messageRoutes(app: FastifyInstance, store: Store): void {
  const { send, ...rest } = store.messages;
  registerResource(app, {
    path: '/messages',
    noun: 'message',
    item: Message,
    operations: { ...rest, create: send },
    listQuery: strictObject({ ...ListQuery, conversation_id: Type.Optional(Id) }),
    createBody: strictObject({
      conversation_id: Id,
      message: Text,
      contact_id: Type.Optional(nullable(Id)),
      attachments: Type.Optional(AttachmentIds),
    }),
    updateBody: strictObject({
      message: Type.Optional(Text),
      reactions: Type.Optional(Reactions),
      attachments: Type.Optional(AttachmentIds),
      read_at: Type.Optional(NullableTimestamp),
    }),
  });
}

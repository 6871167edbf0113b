import { Type, type TSchema } from '@sinclair/typebox';
import { EVENT_TYPES } from '@protocol/sdk';
import { ERROR_CATALOGUE } from '../errors.js';
import { Id, nullable, oneOf } from './schemas.js';

/**
 * What every endpoint answers, as JSON Schema: the one source for the OpenAPI document
 * (`/v1/openapi.json`) and for the serializer, which writes only the fields named here. They
 * mirror the SDK's types (packages/sdk/src/resources.ts); `openapi.test.ts` checks real answers
 * against them.
 */
const Seconds = Type.Integer({ minimum: 0, description: 'Unix seconds' });
const NullableSeconds = nullable(Seconds);
const NullableString = nullable(Type.String());
const NullableId = nullable(Id);
const EventType = oneOf(EVENT_TYPES);
const object = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description && { description }) });

/** 204: no body. */
export const NoContent = Type.Null({ description: 'No content' });

export const Page = (item: TSchema) => object({ has_more: Type.Boolean(), data: Type.Array(item) }, 'One page of results, newest first.');

export const ErrorBody = object(
  {
    type: oneOf(['invalid_request', 'api_error'] as const),
    message: Type.String(),
    documentation_url: Type.String(),
    param: Type.Optional(Type.String()),
  },
  `The body of every error. Statuses: ${[...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))].join(', ')}.`,
);

const contactSummaryFields = {
  id: Id,
  username: Type.String(),
  phone_number: Type.String(),
  avatar_url: NullableString,
  last_active_at: NullableSeconds,
  created_at: Seconds,
};
export const ContactSummary = object(contactSummaryFields, 'The sender of a message, or a member of a group.');
export const Contact = object({ ...contactSummaryFields, display_name: NullableString, conversation_id: NullableId });

export const Conversation = object({
  id: Id,
  contact_id: NullableId,
  group_id: NullableId,
  pinned_message_id: NullableId,
  is_pinned: Type.Boolean(),
  is_muted: Type.Boolean(),
  last_active_at: NullableSeconds,
  last_opened_at: NullableSeconds,
  created_at: Seconds,
  archived_at: NullableSeconds,
});

export const Attachment = object({
  id: Id,
  message_id: NullableId,
  filename: Type.String(),
  file_url: Type.String(),
  file_type: Type.String(),
  file_size: Type.Integer({ minimum: 0 }),
  created_at: Seconds,
});

export const Message = object({
  id: Id,
  conversation_id: Id,
  contact: nullable(ContactSummary),
  message: Type.String(),
  reactions: Type.Array(Type.Record(Type.String(), Type.Array(Type.String())), { description: 'Each reaction is `{"emoji_name": ["username", …]}`.' }),
  attachments: Type.Array(Attachment),
  read_at: NullableSeconds,
  created_at: Seconds,
  updated_at: Seconds,
});

export const Group = object({
  id: Id,
  name: Type.String(),
  description: NullableString,
  avatar_url: NullableString,
  conversation_id: NullableId,
  contacts: Type.Array(ContactSummary),
  created_at: Seconds,
  archived_at: NullableSeconds,
});

export const Event = object(
  { id: Id, type: EventType, payload: Type.Object({}, { additionalProperties: true, description: 'The resource as the API returns it.' }), created_at: Seconds },
  'A change, exactly as webhooks receive it, plus when it happened.',
);

const webhookFields = {
  id: Id,
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(EventType),
  enabled: Type.Boolean(),
  disabled_reason: NullableString,
  health: object({
    success_rate: nullable(Type.Number({ minimum: 0, maximum: 1 })),
    last_attempt_at: NullableSeconds,
  }),
  created_at: Seconds,
  updated_at: Seconds,
};
export const Webhook = object(webhookFields);
const Secret = Type.String({ pattern: '^whsec_', description: 'The signing secret; shown on create and by GET /webhooks/{id}/secret.' });
export const WebhookWithSecret = object({ ...webhookFields, secret: Secret });
export const WebhookSecret = object({ secret: Secret });
export const RotatedSecret = object({ secret: Secret, previous_secret_expires_at: Seconds });

const deliveryFields = {
  id: Id,
  webhook_id: Id,
  event_id: Id,
  event_type: EventType,
  status: oneOf(['pending', 'succeeded', 'failed'] as const),
  attempt_count: Type.Integer({ minimum: 0 }),
  next_attempt_at: NullableSeconds,
  last_attempt_at: NullableSeconds,
  created_at: Seconds,
  updated_at: Seconds,
};
export const Delivery = object(deliveryFields);
const Headers = Type.Record(Type.String(), Type.String());
export const DeliveryAttempt = object({
  id: Id,
  attempt: Type.Integer({ minimum: 1 }),
  started_at: Seconds,
  duration_ms: Type.Integer({ minimum: 0 }),
  status_code: nullable(Type.Integer()),
  request_headers: Headers,
  response_headers: nullable(Headers),
  response_body: NullableString,
  error: NullableString,
  error_stage: nullable(oneOf(['dns', 'connect', 'tls', 'timeout', 'http'] as const)),
});
export const DeliveryDetail = object({ ...deliveryFields, request: object({ url: Type.String(), body: Type.String() }), attempts: Type.Array(DeliveryAttempt) });
export const Recovered = object({ recovered: Type.Integer({ minimum: 0 }) });

export const Account = object({ id: Id, name: Type.String(), created_at: Seconds });
export const SessionInfo = object({ account: Account });
const apiKeyFields = { id: Id, name: Type.String(), hint: Type.String(), created_at: Seconds, revoked_at: NullableSeconds };
export const ApiKey = object(apiKeyFields);
export const NewApiKey = object({ ...apiKeyFields, key: Type.String({ description: 'The key itself: shown only in this response.' }) });
export const Settings = object({
  retention_seconds: Type.Integer({ description: 'Events, deliveries and attempts older than this are purged (PROTOCOL_RETENTION).' }),
  rate_limit_per_second: nullable(Type.Integer({ description: 'Requests per second per API key (PROTOCOL_RATE_LIMIT); null when unlimited.' })),
  idempotency_key_ttl_seconds: Type.Integer({ description: 'How long an Idempotency-Key response is replayed.' }),
});

export const Health = object({ status: Type.String(), reason: Type.Optional(Type.String()) });

import type { Attachment, Contact, Conversation, Group, Id, Message, UnixSeconds } from './resources.js';

/**
 * The 15 event types of the webhooks guide. The first part names the payload's resource.
 * Order matters: it is the order the dashboard lists them in.
 */
export const EVENT_TYPES = [
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'conversation.created',
  'conversation.updated',
  'conversation.deleted',
  'message.created',
  'message.updated',
  'message.deleted',
  'group.created',
  'group.updated',
  'group.deleted',
  'attachment.created',
  'attachment.updated',
  'attachment.deleted',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface PayloadByResource {
  contact: Contact;
  conversation: Conversation;
  message: Message;
  group: Group;
  attachment: Attachment;
}

export type ResourceName = keyof PayloadByResource;
export type ResourceOf<T extends EventType> = T extends `${infer R}.${string}` ? R & ResourceName : never;

/** The body of every delivery: `{"id", "type", "payload"}`. A union over the 15 types. */
export type WebhookEvent = {
  [T in EventType]: { id: Id; type: T; payload: PayloadByResource[ResourceOf<T>] };
}[EventType];

/** An event as `GET /v1/events` returns it: the delivery body plus when it happened. */
export type ProtocolEvent = WebhookEvent & { created_at: UnixSeconds };

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

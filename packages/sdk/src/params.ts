import type { EventType } from './events.js';
import type { Id, UnixSeconds } from './resources.js';

/** What the API accepts. The server validates exactly these shapes. */

export interface ListParams {
  /** 1-100, default 10. */
  limit?: number;
  /** Page towards older objects, after this id. */
  starting_after?: Id;
  /** Page towards newer objects, before this id. */
  ending_before?: Id;
}

export interface ContactCreateParams {
  username: string;
  phone_number: string;
  avatar_url?: string | null;
  display_name?: string | null;
}
export interface ContactUpdateParams {
  display_name?: string | null;
}

export type ConversationCreateParams = { contact_id: Id; group_id?: never } | { group_id: Id; contact_id?: never };
export interface ConversationUpdateParams {
  pinned_message_id?: Id | null;
  is_pinned?: boolean;
  is_muted?: boolean;
  archived_at?: UnixSeconds | null;
}
export interface ConversationListParams extends ListParams {
  muted?: boolean;
  archived?: boolean;
  pinned?: boolean;
  group_id?: Id;
}

/** In requests, reactions are `{emoji_name: [usernames]}` and replace the message's reactions. */
export type ReactionsInput = Record<string, string[]>;

export interface MessageSendParams {
  conversation_id: Id;
  message: string;
  /** The sending contact; omit it when the account itself sends. */
  contact_id?: Id | null;
  /** Ids of uploaded attachments to attach. */
  attachments?: Id[];
}
export interface MessageUpdateParams {
  message?: string;
  reactions?: ReactionsInput;
  attachments?: Id[];
  read_at?: UnixSeconds | null;
}
export interface MessageListParams extends ListParams {
  conversation_id?: Id;
}

export interface GroupCreateParams {
  name: string;
  description?: string | null;
  avatar_url?: string | null;
  contacts?: Id[];
}
export interface GroupUpdateParams {
  name?: string;
  description?: string | null;
  avatar_url?: string | null;
  contacts?: Id[];
  archived_at?: UnixSeconds | null;
}
export interface GroupListParams extends ListParams {
  archived?: boolean;
}

export interface AttachmentUpdateParams {
  filename?: string;
}
export interface AttachmentListParams extends ListParams {
  conversation_id?: Id;
}

export interface EventListParams extends ListParams {
  type?: EventType;
}

export interface WebhookCreateParams {
  name: string;
  url: string;
  events: EventType[];
}
export interface WebhookUpdateParams {
  name?: string;
  url?: string;
  events?: EventType[];
  /** `true` turns a disabled webhook back on. */
  enabled?: boolean;
}
export interface DeliveryListParams extends ListParams {
  status?: import('./resources.js').DeliveryStatus;
}
export interface WebhookTestParams {
  /** Default: the webhook's first subscribed type. */
  type?: EventType;
}
export interface WebhookRecoverParams {
  /** Re-queue failed deliveries created at or after this Unix time. */
  since: UnixSeconds;
}

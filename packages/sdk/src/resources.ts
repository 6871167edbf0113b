/**
 * The Protocol resources exactly as the API returns them (SPEC §4).
 * Timestamps are integer Unix seconds, `null` when unset. Ids are 16 alphanumeric characters.
 */

export type Id = string;
export type UnixSeconds = number;

/** The sender summary embedded in a message (and the members listed in a group). */
export interface ContactSummary {
  id: Id;
  username: string;
  phone_number: string;
  avatar_url: string | null;
  last_active_at: UnixSeconds | null;
  created_at: UnixSeconds;
}

export interface Contact extends ContactSummary {
  display_name: string | null;
  conversation_id: Id | null;
}

export interface Conversation {
  id: Id;
  contact_id: Id | null;
  group_id: Id | null;
  pinned_message_id: Id | null;
  is_pinned: boolean;
  is_muted: boolean;
  last_active_at: UnixSeconds | null;
  last_opened_at: UnixSeconds | null;
  created_at: UnixSeconds;
  archived_at: UnixSeconds | null;
}

/** In responses each reaction is a single-key object: `{"red_angry_face": ["KateMcCallister"]}`. */
export type Reaction = Record<string, string[]>;

export interface Attachment {
  id: Id;
  message_id: Id | null;
  filename: string;
  file_url: string;
  file_type: string;
  file_size: number;
  created_at: UnixSeconds;
}

export interface Message {
  id: Id;
  conversation_id: Id;
  /** The sending contact, or `null` when the account itself sent the message. */
  contact: ContactSummary | null;
  message: string;
  reactions: Reaction[];
  attachments: Attachment[];
  read_at: UnixSeconds | null;
  created_at: UnixSeconds;
  updated_at: UnixSeconds;
}

export interface Group {
  id: Id;
  name: string;
  description: string | null;
  avatar_url: string | null;
  conversation_id: Id | null;
  contacts: ContactSummary[];
  created_at: UnixSeconds;
  archived_at: UnixSeconds | null;
}

/** Every list endpoint answers with one page of newest-first results. */
export interface Page<T> {
  has_more: boolean;
  data: T[];
}

/** The error body of every failed request (SPEC §3). */
export interface ApiErrorBody {
  type: 'invalid_request' | 'api_error';
  message: string;
  documentation_url: string;
  param?: string;
}

/** An endpoint registered to receive events (SPEC §6). `secret` is only on the create response. */
export interface Webhook {
  id: Id;
  name: string;
  url: string;
  events: import('./events.js').EventType[];
  enabled: boolean;
  /** Why Protocol (or someone) disabled it; `null` while enabled. */
  disabled_reason: string | null;
  /** How it has been doing: the share of deliveries finished in the last 24 h (counted by the hour) that succeeded (`null`: none), and its latest attempt. */
  health: { success_rate: number | null; last_attempt_at: UnixSeconds | null };
  created_at: UnixSeconds;
  updated_at: UnixSeconds;
}

export type WebhookWithSecret = Webhook & { secret: string };

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** Where an attempt failed: before an answer (dns, connect, tls, timeout) or with one (http). */
export type AttemptErrorStage = 'dns' | 'connect' | 'tls' | 'timeout' | 'http';

/** One event owed to one webhook. */
export interface Delivery {
  id: Id;
  webhook_id: Id;
  event_id: Id;
  event_type: import('./events.js').EventType;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempt_count: number;
  /** When the next attempt is due (pending only). */
  next_attempt_at: UnixSeconds | null;
  last_attempt_at: UnixSeconds | null;
  created_at: UnixSeconds;
  updated_at: UnixSeconds;
}

export interface DeliveryAttempt {
  id: Id;
  /** 1-based. */
  attempt: number;
  started_at: UnixSeconds;
  duration_ms: number;
  status_code: number | null;
  request_headers: Record<string, string>;
  response_headers: Record<string, string> | null;
  /** The first 4 KiB of the response body. */
  response_body: string | null;
  error: string | null;
  error_stage: AttemptErrorStage | null;
}

/** A delivery with what was sent and every attempt. */
export interface DeliveryDetail extends Delivery {
  request: { url: string; body: string };
  attempts: DeliveryAttempt[];
}

/** An API key as listed: never the key itself, only its last four characters. */
export interface ApiKey {
  id: Id;
  name: string;
  hint: string;
  created_at: UnixSeconds;
  revoked_at: UnixSeconds | null;
}

/** `GET /v1/settings`: what this server keeps and allows. */
export interface Settings {
  /** Events, deliveries and attempts older than this are purged (PROTOCOL_RETENTION). */
  retention_seconds: number;
  /** Requests per second per API key; `null` when unlimited (PROTOCOL_RATE_LIMIT=0). */
  rate_limit_per_second: number | null;
  /** How long an Idempotency-Key's response is replayed. */
  idempotency_key_ttl_seconds: number;
}

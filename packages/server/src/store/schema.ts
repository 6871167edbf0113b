/**
 * The tables, as Kysely sees them.
 *
 * Glossary
 * - account: a tenant. Every row of every table carries `account_id` and every query filters
 *   on it, so the schema can later be distributed by account (SPEC §2).
 * - api key: a bearer credential of one account; only its SHA-256 is stored.
 * - event: one change (`contact.created` …), stored in the transaction of the change. `body` is
 *   the exact delivery body `{"id","type","payload"}`: written once, sent byte-identical on
 *   every attempt to every webhook.
 * - webhook: an account's endpoint (name, URL, subscribed types, secret). `webhook_events` holds
 *   one row per subscribed type, so fan-out is one indexed lookup.
 * - delivery: one event owed to one webhook. `pending` until an attempt succeeds (`succeeded`)
 *   or the last allowed attempt fails (`failed`). `due_at` (ms) is when it may next be tried.
 * - attempt: one HTTP request of a delivery and what came back (or the stage that failed).
 * - queue: where pending deliveries wait to be claimed. SQLite: `deliveries` itself (its due
 *   index and lease columns). PostgreSQL: `delivery_queue`, a row per pending delivery, so that
 *   leases and results write no index entry of `deliveries` (migration 011, store/queue.ts).
 * - lease: a worker's claim on a pending delivery (its owner, and `due_at` moved to the lease's
 *   end, in ms). A crashed worker's leases expire and another worker takes the deliveries again.
 * - seq: a per-table, ever-increasing integer. Lists page on it (newest first), so pages stay
 *   stable while rows are inserted and ties within one second are ordered by insertion.
 *
 * Timestamps are integer Unix seconds. Booleans are 0/1 integers on both dialects, because
 * better-sqlite3 cannot bind JavaScript booleans.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

interface Owned {
  seq: Generated<number>;
  id: string;
  account_id: string;
}

export interface AccountsTable {
  seq: Generated<number>;
  id: string;
  name: string;
  created_at: number;
}

export interface ApiKeysTable extends Owned {
  name: string;
  key_hash: string;
  /** The last four characters, so people can tell their keys apart. */
  key_hint: string;
  created_at: number;
  revoked_at: number | null;
}

export interface ContactsTable extends Owned {
  username: string;
  phone_number: string;
  avatar_url: string | null;
  display_name: string | null;
  conversation_id: string | null;
  last_active_at: number | null;
  created_at: number;
}

export interface ConversationsTable extends Owned {
  contact_id: string | null;
  group_id: string | null;
  pinned_message_id: string | null;
  is_pinned: number;
  is_muted: number;
  last_active_at: number | null;
  last_opened_at: number | null;
  created_at: number;
  archived_at: number | null;
}

export interface MessagesTable extends Owned {
  conversation_id: string;
  /** The sending contact; null when the account itself sent it. */
  contact_id: string | null;
  message: string;
  /** JSON of the response shape: `[{"emoji": ["username"]}]`. */
  reactions: string;
  read_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface GroupsTable extends Owned {
  name: string;
  description: string | null;
  avatar_url: string | null;
  conversation_id: string | null;
  created_at: number;
  archived_at: number | null;
}

export interface GroupMembersTable {
  account_id: string;
  group_id: string;
  contact_id: string;
  /** Keeps members in the order they were given. */
  position: number;
}

export interface AttachmentsTable extends Owned {
  message_id: string | null;
  filename: string;
  file_type: string;
  file_size: number;
  /** The unguessable name of the file under the data directory and in `file_url`. */
  storage_key: string;
  created_at: number;
}

export interface EventsTable extends Owned {
  type: string;
  body: string;
  created_at: number;
  /** 1 for the example events of `POST /webhooks/:id/test`: delivered, never logged. */
  test: Generated<number>;
}

export interface WebhooksTable extends Owned {
  name: string;
  url: string;
  enabled: number;
  disabled_reason: string | null;
  secret: string;
  /** After a rotation the old secret keeps signing until `previous_secret_expires_at` (s). */
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  /** Unix ms of the first failed attempt since the last success; drives auto-disable. */
  failing_since: number | null;
  /** Unix seconds of the latest attempt, for the dashboard's health column. */
  last_attempt_at: Generated<number | null>;
  created_at: number;
  updated_at: number;
}

export interface WebhookEventsTable {
  account_id: string;
  type: string;
  /** The webhook's `seq`: fan-out joins on primary keys (migration 012). */
  webhook_seq: number;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveriesTable extends Owned {
  event_id: string;
  /** The event's `seq`: the claim joins on primary keys (migration 008). */
  event_seq: number;
  event_type: string;
  webhook_id: string;
  /** The webhook's `seq`, likewise. */
  webhook_seq: number;
  status: DeliveryStatus;
  attempt_count: number;
  /** The attempt number after which a failure is final (the schedule's length + 1, or one more after a manual retry). */
  final_attempt: number;
  /** When the next attempt is due (ms); on SQLite, while leased, the lease's end. */
  due_at: number | null;
  /** SQLite's lease; always null on PostgreSQL, whose leases are in `delivery_queue`. */
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_attempt_at: number | null;
  /** Unix seconds when it failed for good, null otherwise: the failed index's condition (migration 011). */
  failed_at: Generated<number | null>;
  created_at: number;
  updated_at: number;
}

/** PostgreSQL: a pending delivery's place in the queue, keyed by the delivery's `seq` (migration 011). */
export interface DeliveryQueueTable {
  seq: number;
  webhook_id: string;
  /** When it may be claimed (ms): its due time, or while leased its lease's end. */
  due_at: number;
  lease_owner: string | null;
}

export interface AttemptsTable extends Owned {
  delivery_id: string;
  webhook_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  request_headers: string;
  response_headers: string | null;
  response_body: string | null;
  error: string | null;
  error_stage: string | null;
}

/** A dashboard sign-in: the cookie's token (hashed) stands for the API key it was exchanged for. */
export interface SessionsTable extends Owned {
  token_hash: string;
  api_key_id: string;
  created_at: number;
  expires_at: number;
}

/** A POST's `Idempotency-Key` and the response it got, replayed for 24 h. */
export interface IdempotencyKeysTable {
  account_id: string;
  key: string;
  /** SHA-256 of method, path and body: the same key with another request is a 409. */
  fingerprint: string;
  /** Null while the first request runs. */
  status_code: number | null;
  response: string | null;
  /** Unix ms. */
  created_at: number;
}

/** Requests per API key per second, shared by every API process on PostgreSQL. */
export interface RateLimitsTable {
  key_id: string;
  /** Unix seconds. */
  second: number;
  count: number;
}

/** Deliveries finished per webhook and hour (`hour` = Unix seconds / 3600): the 24 h health. */
export interface WebhookStatsTable {
  account_id: string;
  webhook_id: string;
  hour: number;
  succeeded: number;
  failed: number;
}

export interface Tables {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  contacts: ContactsTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  attachments: AttachmentsTable;
  events: EventsTable;
  webhooks: WebhooksTable;
  webhook_events: WebhookEventsTable;
  deliveries: DeliveriesTable;
  delivery_queue: DeliveryQueueTable;
  attempts: AttemptsTable;
  sessions: SessionsTable;
  idempotency_keys: IdempotencyKeysTable;
  rate_limits: RateLimitsTable;
  webhook_stats: WebhookStatsTable;
}

export type Row<T extends keyof Tables> = Selectable<Tables[T]>;
export type NewRow<T extends keyof Tables> = Insertable<Tables[T]>;

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
}

export type Row<T extends keyof Tables> = Selectable<Tables[T]>;
export type NewRow<T extends keyof Tables> = Insertable<Tables[T]>;

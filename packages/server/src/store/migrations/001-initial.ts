import type { Kysely } from 'kysely';
import type { Ddl } from './ddl.js';

/** Accounts, keys, the five resources and their events. */
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('seq', ddl.seqType, ddl.seq)
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await ddl
    .owned(db, 'api_keys')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_hint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();

  await ddl
    .owned(db, 'contacts')
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('avatar_url', 'text')
    .addColumn('display_name', 'text')
    .addColumn('conversation_id', 'text')
    .addColumn('last_active_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('contacts_username', ['account_id', 'username'])
    .execute();

  await ddl
    .owned(db, 'conversations')
    .addColumn('contact_id', 'text')
    .addColumn('group_id', 'text')
    .addColumn('pinned_message_id', 'text')
    .addColumn('is_pinned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_muted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_active_at', 'bigint')
    .addColumn('last_opened_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('archived_at', 'bigint')
    .execute();

  await ddl
    .owned(db, 'messages')
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('reactions', 'text', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_conversation').on('messages').columns(['account_id', 'conversation_id', 'seq']).execute();

  await ddl
    .owned(db, 'groups')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('avatar_url', 'text')
    .addColumn('conversation_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('archived_at', 'bigint')
    .execute();

  await db.schema
    .createTable('group_members')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['account_id', 'group_id', 'contact_id'])
    .execute();
  await db.schema.createIndex('group_members_contact').on('group_members').columns(['account_id', 'contact_id']).execute();

  await ddl
    .owned(db, 'attachments')
    .addColumn('message_id', 'text')
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('file_type', 'text', (c) => c.notNull())
    .addColumn('file_size', 'bigint', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attachments_message').on('attachments').columns(['account_id', 'message_id']).execute();

  await ddl
    .owned(db, 'events')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_type').on('events').columns(['account_id', 'type', 'seq']).execute();

  // Lists page newest-first on (account_id, seq); lookups go by (account_id, id).
  for (const table of ['api_keys', 'contacts', 'conversations', 'messages', 'groups', 'attachments', 'events']) {
    await db.schema.createIndex(`${table}_account_seq`).on(table).columns(['account_id', 'seq']).execute();
  }
}

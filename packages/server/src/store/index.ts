import { sql } from 'kysely';
import { accountsStore } from './accounts.js';
import { attachmentsStore } from './attachments.js';
import type { StoreContext, StoredEvent } from './context.js';
import { contactsStore } from './contacts.js';
import { conversationsStore } from './conversations.js';
import type { Database } from './database.js';
import { eventsStore } from './events.js';
import { groupsStore } from './groups.js';
import { messagesStore } from './messages.js';

export type { StoredEvent } from './context.js';
export { openDatabase, type Database } from './database.js';
export { migrate } from './migrations/index.js';

/**
 * The store: every domain operation Protocol performs, written once with Kysely for SQLite and
 * PostgreSQL. Callers see resources and events, never SQL. Each write runs in one transaction
 * that also stores its events.
 */
export interface StoreOptions {
  fileUrl: (account: string, storageKey: string) => string;
  now?: () => number;
  /** Told about the events of every committed write. */
  onEvents?: (events: StoredEvent[]) => void;
}

export function createStore(database: Database, options: StoreOptions) {
  const ctx: StoreContext = {
    db: database.db,
    dialect: database.dialect,
    now: options.now ?? (() => Math.floor(Date.now() / 1000)),
    fileUrl: options.fileUrl,
    afterCommit: (events) => options.onEvents?.(events),
  };
  return {
    dialect: database.dialect,
    accounts: accountsStore(ctx),
    contacts: contactsStore(ctx),
    conversations: conversationsStore(ctx),
    messages: messagesStore(ctx),
    groups: groupsStore(ctx),
    attachments: attachmentsStore(ctx),
    events: eventsStore(ctx),
    /** Answers when the database does: the readiness probe. */
    async ping(): Promise<void> {
      await sql`select 1`.execute(database.db);
    },
    close: () => database.close(),
  };
}

export type Store = ReturnType<typeof createStore>;

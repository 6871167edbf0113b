import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Attachment, ContactSummary, ListParams, Message, MessageListParams, MessageSendParams, MessageUpdateParams, Page, Reaction, ReactionsInput } from '@protocol/sdk';
import { ProtocolError, notFound } from '../errors.js';
import { toAttachment } from './attachments.js';
import { write, type StoreContext, type WriteScope } from './context.js';
import { toSummary } from './contacts.js';
import { compiled, slot } from './compiled.js';
import { newId } from './ids.js';
import { paginate } from './pagination.js';
import type { Row, Tables } from './schema.js';

/** Requests give `{emoji: [usernames]}`; responses (and storage) use `[{emoji: [usernames]}]`. */
export function reactionsToList(input: ReactionsInput): Reaction[] {
  return Object.entries(input).map(([emoji, usernames]) => ({ [emoji]: usernames }));
}

const touchStatement = (table: 'contacts' | 'conversations', skipLocked: boolean) =>
  compiled((db) => {
    const stale = (eb: ExpressionBuilder<Tables, typeof table>) =>
      eb.and([eb('account_id', '=', slot('account')), eb('id', '=', slot('id')), eb.or([eb('last_active_at', 'is', null), eb('last_active_at', '<', slot('now'))])]);
    const update = db.updateTable(table).set({ last_active_at: slot('now') });
    // Concurrent messages to one conversation would queue on its row lock for this bookkeeping;
    // on PostgreSQL whoever finds it locked skips it, since the holder writes the same second.
    // SQLite has one writer and updates the row directly: `WHERE seq IN (SELECT …)` built an
    // ephemeral table on every run (~3 µs against ~1.3 µs, measured alone).
    return skipLocked ? update.where('seq', 'in', db.selectFrom(table).select('seq').where(stale).forUpdate().skipLocked()) : update.where(stale);
  });
const touches = {
  contacts: { plain: touchStatement('contacts', false), skipLocked: touchStatement('contacts', true) },
  conversations: { plain: touchStatement('conversations', false), skipLocked: touchStatement('conversations', true) },
};

/**
 * `last_active_at` bookkeeping, written at most once a second per row: in a busy conversation
 * every send would otherwise take the same row lock and serialize on PostgreSQL.
 */
function touch(ctx: StoreContext, tx: Kysely<Tables>, table: 'contacts' | 'conversations', account: string, id: string, now: number) {
  return touches[table][ctx.database.skipLocked ? 'skipLocked' : 'plain'](tx, { account, id, now });
}

const MESSAGE_COLUMNS = ['id', 'account_id', 'conversation_id', 'contact_id', 'message', 'reactions', 'read_at', 'created_at', 'updated_at'] as const;
const INTEGER_COLUMNS: ReadonlySet<string> = new Set(['read_at', 'created_at', 'updated_at']);
/**
 * The message, inserted only if its conversation exists: one statement instead of a lookup and
 * an insert (on PostgreSQL each is a round trip, ~100 µs of CPU on both sides). No row means no
 * such conversation. Values in a SELECT list have no column to take a type from, so PostgreSQL
 * is told the integers'.
 */
const insertMessage = compiled((db) =>
  db
    .insertInto('messages')
    .columns(MESSAGE_COLUMNS)
    .expression(
      db
        .selectFrom('conversations')
        .select(MESSAGE_COLUMNS.map((column) => (INTEGER_COLUMNS.has(column) ? sql`cast(${slot(column)} as bigint)` : sql`${slot(column)}`).as(column)))
        .where('account_id', '=', slot('account_id'))
        .where('id', '=', slot('conversation_id')),
    ),
);

/** A message in the docs' field order. */
function toMessage(row: Row<'messages'>, contact: ContactSummary | null, attachments: Attachment[]): Message {
  return {
    id: row.id,
    conversation_id: row.conversation_id,
    contact,
    message: row.message,
    reactions: JSON.parse(row.reactions) as Reaction[],
    attachments,
    read_at: row.read_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Turns message rows into API messages with two queries in all, not two per message. */
export async function hydrateMessages(ctx: StoreContext, db: Kysely<Tables>, account: string, rows: Row<'messages'>[]): Promise<Message[]> {
  if (rows.length === 0) return [];
  const contactIds = [...new Set(rows.map((r) => r.contact_id).filter((id): id is string => id !== null))];
  const contacts = contactIds.length
    ? await db.selectFrom('contacts').selectAll().where('account_id', '=', account).where('id', 'in', contactIds).execute()
    : [];
  const attachments = await db
    .selectFrom('attachments')
    .selectAll()
    .where('account_id', '=', account)
    .where('message_id', 'in', rows.map((r) => r.id))
    .orderBy('seq', 'asc')
    .execute();
  const contactById = new Map(contacts.map((c) => [c.id, toSummary(c)]));
  return rows.map((row) =>
    toMessage(
      row,
      row.contact_id ? (contactById.get(row.contact_id) ?? null) : null,
      attachments.filter((a) => a.message_id === row.id).map((a) => toAttachment(a, ctx.fileUrl)),
    ),
  );
}

async function requireMessageRow(scope: WriteScope, id: string) {
  const row = await scope.tx.selectFrom('messages').selectAll().where('account_id', '=', scope.account).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('message', id);
  return row;
}

/** Points the given attachments at a message, after checking each exists and is free. */
async function attach(scope: WriteScope, messageId: string, attachmentIds: string[]) {
  const ids = [...new Set(attachmentIds)];
  if (ids.length === 0) return;
  const found = await scope.tx.selectFrom('attachments').select(['id', 'message_id']).where('account_id', '=', scope.account).where('id', 'in', ids).execute();
  for (const id of ids) {
    const attachment = found.find((a) => a.id === id);
    if (!attachment) throw notFound('attachment', id, 'attachments');
    if (attachment.message_id && attachment.message_id !== messageId) {
      throw new ProtocolError('conflict', `Attachment '${id}' already belongs to message '${attachment.message_id}'`, 'attachments');
    }
  }
  await scope.tx.updateTable('attachments').set({ message_id: messageId }).where('account_id', '=', scope.account).where('id', 'in', ids).execute();
}

export function messagesStore(ctx: StoreContext) {
  /**
   * The second this process last set a conversation's or contact's `last_active_at`, after the
   * commit: a send in the same second needs no statement for it.
   * Every message to a busy conversation asked the database otherwise, one statement of its
   * seven on PostgreSQL. Bounded: what is forgotten costs a statement.
   */
  const lastTouched = new Map<string, number>();
  const touchedAt = (table: 'contacts' | 'conversations', account: string, id: string) => lastTouched.get(`${table}/${account}/${id}`);
  const touched = (table: 'contacts' | 'conversations', account: string, id: string, second: number) => {
    if (lastTouched.size >= 10_000) lastTouched.clear();
    lastTouched.set(`${table}/${account}/${id}`, second);
  };
  const hydrateOne = async (db: Kysely<Tables>, account: string, row: Row<'messages'>) => (await hydrateMessages(ctx, db, account, [row]))[0]!;

  return {
    async list(account: string, params: MessageListParams & ListParams): Promise<Page<Message>> {
      let query = ctx.db.selectFrom('messages').selectAll().where('account_id', '=', account);
      if (params.conversation_id !== undefined) query = query.where('conversation_id', '=', params.conversation_id);
      const page = await paginate(ctx.db, 'messages', account, params, query);
      return { has_more: page.has_more, data: await hydrateMessages(ctx, ctx.db, account, page.data) };
    },

    async get(account: string, id: string): Promise<Message> {
      const row = await ctx.db.selectFrom('messages').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('message', id);
      return hydrateOne(ctx.db, account, row);
    },

    /** Sending bumps the conversation's and the sender's `last_active_at` (bookkeeping: no event). */
    async send(account: string, input: MessageSendParams): Promise<Message> {
      let sentAt = 0;
      const sent = await write(ctx, account, async (scope) => {
        const { tx, now } = scope;
        sentAt = now;
        const contactId = input.contact_id ?? null;
        const row = {
          id: newId(),
          account_id: account,
          conversation_id: input.conversation_id,
          contact_id: contactId,
          message: input.message,
          reactions: '[]',
          read_at: null,
          created_at: now,
          updated_at: now,
        };
        // Without a sender or attachments to look up, the message is known now, and so is its
        // event: it goes out with the message's statements.
        const plain = contactId === null && !input.attachments?.length ? toMessage({ ...row, seq: 0 }, null, []) : undefined;
        // Asked for together (one round trip on PostgreSQL): none needs another's result, and a
        // missing conversation or sender rolls all of them back. The conversation's error comes first.
        const [inserted, found] = await Promise.all([
          insertMessage(tx, row),
          contactId ? tx.selectFrom('contacts').selectAll().where('account_id', '=', account).where('id', '=', contactId).executeTakeFirst() : undefined,
          touchedAt('conversations', account, input.conversation_id) === now ? undefined : touch(ctx, tx, 'conversations', account, input.conversation_id, now),
          contactId && touchedAt('contacts', account, contactId) !== now ? touch(ctx, tx, 'contacts', account, contactId, now) : undefined,
          plain && scope.emit('message.created', plain),
        ]);
        if (Number(inserted.numAffectedRows) === 0) throw notFound('conversation', input.conversation_id, 'conversation_id');
        if (contactId && !found) throw notFound('contact', contactId, 'contact_id');
        if (plain) return plain;
        const sender: Row<'contacts'> | undefined = found && { ...found, last_active_at: now };
        await attach(scope, row.id, input.attachments ?? []);
        // A message without attachments needs no second look at the database.
        const message = input.attachments?.length ? await hydrateOne(tx, account, { ...row, seq: 0 }) : toMessage({ ...row, seq: 0 }, sender ? toSummary(sender) : null, []);
        await scope.emit('message.created', message);
        return message;
      });
      // Committed: the rows' `last_active_at` is this second's, until the next second.
      touched('conversations', account, input.conversation_id, sentAt);
      if (input.contact_id) touched('contacts', account, input.contact_id, sentAt);
      return sent;
    },

    /** `reactions` and `attachments` replace what the message had. */
    update(account: string, id: string, input: MessageUpdateParams): Promise<Message> {
      return write(ctx, account, async (scope) => {
        const { tx, now } = scope;
        const before = await requireMessageRow(scope, id);
        const changes = {
          ...(input.message !== undefined && { message: input.message }),
          ...(input.reactions !== undefined && { reactions: JSON.stringify(reactionsToList(input.reactions)) }),
          ...(input.read_at !== undefined && { read_at: input.read_at }),
          updated_at: now,
        };
        await tx.updateTable('messages').set(changes).where('account_id', '=', account).where('id', '=', id).execute();
        if (input.attachments !== undefined) {
          let detach = tx.updateTable('attachments').set({ message_id: null }).where('account_id', '=', account).where('message_id', '=', id);
          if (input.attachments.length > 0) detach = detach.where('id', 'not in', input.attachments);
          await detach.execute();
          await attach(scope, id, input.attachments);
        }
        if (input.read_at != null) {
          await tx.updateTable('conversations').set({ last_opened_at: now }).where('account_id', '=', account).where('id', '=', before.conversation_id).execute();
        }
        const message = await hydrateOne(tx, account, { ...before, ...changes });
        await scope.emit('message.updated', message);
        return message;
      });
    },

    /** The message's attachments stay, detached; a pin on it is cleared. */
    delete(account: string, id: string): Promise<Message> {
      return write(ctx, account, async (scope) => {
        const { tx } = scope;
        const row = await requireMessageRow(scope, id);
        const message = await hydrateOne(tx, account, row);
        await tx.updateTable('attachments').set({ message_id: null }).where('account_id', '=', account).where('message_id', '=', id).execute();
        await tx.updateTable('conversations').set({ pinned_message_id: null }).where('account_id', '=', account).where('pinned_message_id', '=', id).execute();
        await tx.deleteFrom('messages').where('account_id', '=', account).where('id', '=', id).execute();
        await scope.emit('message.deleted', message);
        return message;
      });
    },
  };
}

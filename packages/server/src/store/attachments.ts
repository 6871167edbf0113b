import type { Attachment, AttachmentListParams, AttachmentUpdateParams, Page } from '@protocol/sdk';
import { notFound } from '../errors.js';
import { write, type StoreContext, type WriteScope } from './context.js';
import { newId } from './ids.js';
import { paginate } from './pagination.js';
import type { Row } from './schema.js';

/** A file already written under the data directory, about to become an attachment. */
export interface StoredFile {
  storage_key: string;
  filename: string;
  file_type: string;
  file_size: number;
}

export function toAttachment(row: Row<'attachments'>, fileUrl: (account: string, storageKey: string) => string): Attachment {
  return {
    id: row.id,
    message_id: row.message_id,
    filename: row.filename,
    file_url: fileUrl(row.account_id, row.storage_key),
    file_type: row.file_type,
    file_size: row.file_size,
    created_at: row.created_at,
  };
}

async function requireAttachmentRow(scope: WriteScope, id: string) {
  const row = await scope.tx.selectFrom('attachments').selectAll().where('account_id', '=', scope.account).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('attachment', id);
  return row;
}

export function attachmentsStore(ctx: StoreContext) {
  const serialize = (row: Row<'attachments'>) => toAttachment(row, ctx.fileUrl);

  return {
    async list(account: string, params: AttachmentListParams): Promise<Page<Attachment>> {
      let query = ctx.db.selectFrom('attachments').selectAll().where('account_id', '=', account);
      if (params.conversation_id !== undefined) {
        const inConversation = ctx.db.selectFrom('messages').select('id').where('account_id', '=', account).where('conversation_id', '=', params.conversation_id);
        query = query.where('message_id', 'in', inConversation);
      }
      const page = await paginate(ctx.db, 'attachments', account, params, query);
      return { has_more: page.has_more, data: page.data.map(serialize) };
    },

    async get(account: string, id: string): Promise<Attachment> {
      const row = await ctx.db.selectFrom('attachments').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('attachment', id);
      return serialize(row);
    },

    create(account: string, file: StoredFile, options: { message_id?: string | null }): Promise<Attachment> {
      return write(ctx, account, async (scope) => {
        const messageId = options.message_id ?? null;
        if (messageId) {
          const message = await scope.tx.selectFrom('messages').select('id').where('account_id', '=', account).where('id', '=', messageId).executeTakeFirst();
          if (!message) throw notFound('message', messageId, 'message_id');
        }
        const row = { id: newId(), account_id: account, message_id: messageId, ...file, created_at: scope.now };
        await scope.tx.insertInto('attachments').values(row).execute();
        const attachment = serialize({ ...row, seq: 0 });
        await scope.emit('attachment.created', attachment);
        return attachment;
      });
    },

    /** Renaming changes `filename` only; the file and its URL stay. */
    update(account: string, id: string, input: AttachmentUpdateParams): Promise<Attachment> {
      return write(ctx, account, async (scope) => {
        const before = await requireAttachmentRow(scope, id);
        const changes = { ...(input.filename !== undefined && { filename: input.filename }) };
        if (Object.keys(changes).length > 0) {
          await scope.tx.updateTable('attachments').set(changes).where('account_id', '=', account).where('id', '=', id).execute();
        }
        const attachment = serialize({ ...before, ...changes });
        await scope.emit('attachment.updated', attachment);
        return attachment;
      });
    },

    /** Returns the storage key too, so the caller removes the file once the delete committed. */
    delete(account: string, id: string): Promise<{ attachment: Attachment; storageKey: string }> {
      return write(ctx, account, async (scope) => {
        const row = await requireAttachmentRow(scope, id);
        await scope.tx.deleteFrom('attachments').where('account_id', '=', account).where('id', '=', id).execute();
        const attachment = serialize(row);
        await scope.emit('attachment.deleted', attachment);
        return { attachment, storageKey: row.storage_key };
      });
    },

    /** Serving a file: its URL holds the account and the unguessable key, which is the capability. */
    async findFile(account: string, storageKey: string): Promise<StoredFile | undefined> {
      return ctx.db
        .selectFrom('attachments')
        .select(['storage_key', 'filename', 'file_type', 'file_size'])
        .where('account_id', '=', account)
        .where('storage_key', '=', storageKey)
        .executeTakeFirst();
    },
  };
}

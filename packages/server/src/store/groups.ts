import type { Kysely } from 'kysely';
import type { Group, GroupCreateParams, GroupListParams, GroupUpdateParams, Page } from '@protocol/sdk';
import { notFound } from '../errors.js';
import { write, type StoreContext, type WriteScope } from './context.js';
import { toSummary } from './contacts.js';
import { deleteConversationIn, insertConversation } from './conversations.js';
import { newId } from './ids.js';
import { paginate } from './pagination.js';
import type { Row, Tables } from './schema.js';

/** Turns group rows into API groups, with their members, in two queries. */
async function hydrateGroups(db: Kysely<Tables>, account: string, rows: Row<'groups'>[]): Promise<Group[]> {
  if (rows.length === 0) return [];
  const members = await db
    .selectFrom('group_members')
    .innerJoin('contacts', (join) => join.onRef('contacts.id', '=', 'group_members.contact_id').onRef('contacts.account_id', '=', 'group_members.account_id'))
    .selectAll('contacts')
    .select(['group_members.group_id', 'group_members.position'])
    .where('group_members.account_id', '=', account)
    .where('group_members.group_id', 'in', rows.map((r) => r.id))
    .orderBy('group_members.position', 'asc')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    description: row.description,
    avatar_url: row.avatar_url,
    conversation_id: row.conversation_id,
    contacts: members.filter((m) => m.group_id === row.id).map(toSummary),
    created_at: row.created_at,
    archived_at: row.archived_at,
  }));
}

/** Replaces a group's members, after checking every contact exists in the account. */
async function setMembers(scope: WriteScope, groupId: string, contactIds: string[]) {
  const ids = [...new Set(contactIds)];
  if (ids.length > 0) {
    const found = await scope.tx.selectFrom('contacts').select('id').where('account_id', '=', scope.account).where('id', 'in', ids).execute();
    const missing = ids.find((id) => !found.some((c) => c.id === id));
    if (missing) throw notFound('contact', missing, 'contacts');
  }
  await scope.tx.deleteFrom('group_members').where('account_id', '=', scope.account).where('group_id', '=', groupId).execute();
  if (ids.length > 0) {
    await scope.tx
      .insertInto('group_members')
      .values(ids.map((contact_id, position) => ({ account_id: scope.account, group_id: groupId, contact_id, position })))
      .execute();
  }
}

async function requireGroupRow(db: Kysely<Tables>, account: string, id: string) {
  const row = await db.selectFrom('groups').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('group', id);
  return row;
}

export function groupsStore(ctx: StoreContext) {
  return {
    async list(account: string, params: GroupListParams): Promise<Page<Group>> {
      let query = ctx.db.selectFrom('groups').selectAll().where('account_id', '=', account);
      if (params.archived !== undefined) query = query.where('archived_at', params.archived ? 'is not' : 'is', null);
      const page = await paginate(ctx.db, 'groups', account, params, query);
      return { has_more: page.has_more, data: await hydrateGroups(ctx.db, account, page.data) };
    },

    async get(account: string, id: string): Promise<Group> {
      return (await hydrateGroups(ctx.db, account, [await requireGroupRow(ctx.db, account, id)]))[0]!;
    },

    /** A new group comes with its conversation: `group.created`, then `conversation.created`. */
    create(account: string, input: GroupCreateParams): Promise<Group> {
      return write(ctx, account, async (scope) => {
        const id = newId();
        const conversation = await insertConversation(scope, { contact_id: null, group_id: id });
        const row = {
          id,
          account_id: account,
          name: input.name,
          description: input.description ?? null,
          avatar_url: input.avatar_url ?? null,
          conversation_id: conversation.id,
          created_at: scope.now,
          archived_at: null,
        };
        await scope.tx.insertInto('groups').values(row).execute();
        await setMembers(scope, id, input.contacts ?? []);
        const group = (await hydrateGroups(scope.tx, account, [{ ...row, seq: 0 }]))[0]!;
        await scope.emit('group.created', group);
        await scope.emit('conversation.created', conversation);
        return group;
      });
    },

    update(account: string, id: string, input: GroupUpdateParams): Promise<Group> {
      return write(ctx, account, async (scope) => {
        const before = await requireGroupRow(scope.tx, account, id);
        const changes = {
          ...(input.name !== undefined && { name: input.name }),
          ...(input.description !== undefined && { description: input.description }),
          ...(input.avatar_url !== undefined && { avatar_url: input.avatar_url }),
          ...(input.archived_at !== undefined && { archived_at: input.archived_at }),
        };
        if (Object.keys(changes).length > 0) {
          await scope.tx.updateTable('groups').set(changes).where('account_id', '=', account).where('id', '=', id).execute();
        }
        if (input.contacts !== undefined) await setMembers(scope, id, input.contacts);
        const group = (await hydrateGroups(scope.tx, account, [{ ...before, ...changes }]))[0]!;
        await scope.emit('group.updated', group);
        return group;
      });
    },

    /** Deleting a group deletes its conversation and that conversation's messages. */
    delete(account: string, id: string): Promise<Group> {
      return write(ctx, account, async (scope) => {
        const row = await requireGroupRow(scope.tx, account, id);
        const group = (await hydrateGroups(scope.tx, account, [row]))[0]!;
        await scope.tx.deleteFrom('group_members').where('account_id', '=', account).where('group_id', '=', id).execute();
        await scope.tx.deleteFrom('groups').where('account_id', '=', account).where('id', '=', id).execute();
        await scope.emit('group.deleted', group);
        if (row.conversation_id) await deleteConversationIn(scope, row.conversation_id);
        return group;
      });
    },
  };
}

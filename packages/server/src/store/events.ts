import type { EventListParams, Page, ProtocolEvent } from '@protocol/sdk';
import { notFound } from '../errors.js';
import type { StoreContext } from './context.js';
import { paginate } from './pagination.js';
import type { Row } from './schema.js';

/** The stored body is the delivery body; the API adds when it happened. */
export function toEvent(row: Pick<Row<'events'>, 'body' | 'created_at'>): ProtocolEvent {
  return { ...(JSON.parse(row.body) as ProtocolEvent), created_at: row.created_at };
}

export function eventsStore(ctx: StoreContext) {
  return {
    async list(account: string, params: EventListParams): Promise<Page<ProtocolEvent>> {
      let query = ctx.db.selectFrom('events').selectAll().where('account_id', '=', account).where('test', '=', 0);
      if (params.type !== undefined) query = query.where('type', '=', params.type);
      const page = await paginate(ctx.db, 'events', account, params, query);
      return { has_more: page.has_more, data: page.data.map(toEvent) };
    },

    async get(account: string, id: string): Promise<ProtocolEvent> {
      const row = await ctx.db.selectFrom('events').select(['body', 'created_at']).where('account_id', '=', account).where('id', '=', id).where('test', '=', 0).executeTakeFirst();
      if (!row) throw notFound('event', id);
      return toEvent(row);
    },
  };
}

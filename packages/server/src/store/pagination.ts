import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { ListParams, Page } from '@protocol/sdk';
import { invalid } from '../errors.js';
import type { Tables } from './schema.js';

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;

type OwnedTable = 'api_keys' | 'contacts' | 'conversations' | 'messages' | 'groups' | 'attachments' | 'events' | 'webhooks' | 'deliveries';

/**
 * Keyset pagination on `seq`, newest first. A cursor is an object id; we page on its `seq`, so
 * inserts between requests never shift or repeat rows. `has_more` says whether more rows lie
 * further in the direction of travel. A cursor from another account is as unknown as a bad one.
 */
export async function paginate<TB extends OwnedTable, Row>(
  db: Kysely<Tables>,
  table: TB,
  account: string,
  params: ListParams,
  query: SelectQueryBuilder<Tables, TB, Row>,
): Promise<Page<Row>> {
  const limit = params.limit ?? DEFAULT_LIMIT;
  if (params.starting_after && params.ending_before) {
    throw invalid('Use starting_after or ending_before, not both', 'ending_before');
  }
  const cursorParam = params.starting_after ? 'starting_after' : params.ending_before ? 'ending_before' : undefined;
  let q = query as unknown as SelectQueryBuilder<any, any, any>;
  if (cursorParam) {
    const cursorId = params[cursorParam]!;
    const cursor = await (db as Kysely<any>)
      .selectFrom(table as string)
      .select('seq')
      .where('account_id', '=', account)
      .where('id', '=', cursorId)
      .executeTakeFirst();
    if (!cursor) throw invalid(`No such object for ${cursorParam}: '${cursorId}'`, cursorParam);
    q = q.where(`${table}.seq`, cursorParam === 'starting_after' ? '<' : '>', cursor.seq);
  }
  const forward = cursorParam !== 'ending_before';
  const rows: Row[] = await q
    .orderBy(`${table}.seq`, forward ? 'desc' : 'asc')
    .limit(limit + 1)
    .execute();
  const has_more = rows.length > limit;
  const data = rows.slice(0, limit);
  return { has_more, data: forward ? data : data.reverse() };
}

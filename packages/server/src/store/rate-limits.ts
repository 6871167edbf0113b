import { sql } from 'kysely';
import type { StoreContext } from './context.js';

/**
 * Requests per API key in the current second, counted in the database so that every API
 * process on one PostgreSQL shares the limit: one upsert per request, on an unlogged table.
 */
export function rateLimitsStore(ctx: StoreContext) {
  return {
    /** Counts one request and returns how many this key has made in `second` (Unix seconds). */
    async hit(keyId: string, second: number): Promise<number> {
      const row = await ctx.db
        .insertInto('rate_limits')
        .values({ key_id: keyId, second, count: 1 })
        .onConflict((oc) => oc.columns(['key_id', 'second']).doUpdateSet({ count: sql`rate_limits.count + 1` }))
        .returning('count')
        .executeTakeFirstOrThrow();
      return row.count;
    },
  };
}

import type { StoreContext } from './context.js';

/** Stripe's window: a key is remembered for 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/**
 * A key whose first request never finished (its process died) is handed to the next request
 * after this long: the request timeout, after which no live request can still be running.
 */
export const ABANDONED_AFTER_MS = 60_000;

export type IdempotencyClaim =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; response: string }
  | { kind: 'mismatch' }
  | { kind: 'in_progress' };

/**
 * `Idempotency-Key`s. The first request inserts the key (the primary key makes concurrent
 * duplicates lose the insert), runs, and stores its response; later ones with the same key
 * replay it, or are refused when their request differs.
 */
export function idempotencyStore(ctx: StoreContext) {
  const table = () => ctx.db.selectFrom('idempotency_keys');
  return {
    async claim(account: string, key: string, fingerprint: string, nowMs = Date.now()): Promise<IdempotencyClaim> {
      for (let round = 0; round < 2; round++) {
        const inserted = await ctx.db
          .insertInto('idempotency_keys')
          .values({ account_id: account, key, fingerprint, status_code: null, response: null, created_at: nowMs })
          .onConflict((oc) => oc.columns(['account_id', 'key']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return { kind: 'new' };
        const row = await table().select(['fingerprint', 'status_code', 'response', 'created_at']).where('account_id', '=', account).where('key', '=', key).executeTakeFirst();
        if (!row) continue; // purged in between: insert again
        const expired = row.created_at < nowMs - IDEMPOTENCY_TTL_MS;
        const abandoned = row.status_code === null && row.created_at < nowMs - ABANDONED_AFTER_MS;
        if (expired || abandoned) {
          // Only the request that deletes this very row takes the key over.
          await ctx.db.deleteFrom('idempotency_keys').where('account_id', '=', account).where('key', '=', key).where('created_at', '=', row.created_at).execute();
          continue;
        }
        if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
        if (row.status_code === null || row.response === null) return { kind: 'in_progress' };
        return { kind: 'replay', status: row.status_code, response: row.response };
      }
      return { kind: 'in_progress' };
    },

    async complete(account: string, key: string, status: number, response: string): Promise<void> {
      await ctx.db.updateTable('idempotency_keys').set({ status_code: status, response }).where('account_id', '=', account).where('key', '=', key).execute();
    },

    /** Forgets a key whose request failed on our side (nothing changed), so a retry can run. */
    async release(account: string, key: string): Promise<void> {
      await ctx.db.deleteFrom('idempotency_keys').where('account_id', '=', account).where('key', '=', key).where('status_code', 'is', null).execute();
    },
  };
}

import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import { periodic } from './periodic.js';

export interface PurgerOptions {
  store: Store;
  logger: Logger;
  retentionMs: number;
  /** Rows per table per batch: small, so each batch's transaction is short. */
  batchSize?: number;
  /** Rest between batches, so API writes and delivery results get the database in between. */
  pauseMs?: number;
  /** How often a purge starts. */
  everyMs?: number;
  onPurged?: (byTable: Record<string, number>) => void;
}

/**
 * Retention (PROTOCOL_RETENTION): every `everyMs`, deletes history older than the retention in
 * small batches until none is left. Runs in every process with the worker role; two purgers on
 * one PostgreSQL only delete the same rows twice (the second finds them gone).
 */
export function createPurger(options: PurgerOptions) {
  const { store, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const pauseMs = options.pauseMs ?? 20;
  const everyMs = options.everyMs ?? 60_000;

  /** One full purge; resolves with the number of history rows deleted. */
  async function purgeAll(): Promise<number> {
    let total = 0;
    const totals: Record<string, number> = {};
    for (;;) {
      const { deleted, byTable } = await store.retention.purge(Math.floor(options.retentionMs / 1000), batchSize);
      for (const [table, n] of Object.entries(byTable)) totals[table] = (totals[table] ?? 0) + n;
      options.onPurged?.(byTable);
      total += deleted;
      if (deleted === 0 || schedule.stopping) break;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    if (total > 0) logger.info({ deleted: totals, retentionSeconds: Math.floor(options.retentionMs / 1000) }, 'retention purge');
    return total;
  }

  const schedule = periodic(purgeAll, {
    everyMs,
    onError: (error) => logger.error({ err: error }, 'retention purge failed; retrying at the next interval'),
  });

  return {
    purgeAll,
    start: () => schedule.start(),
    stop: () => schedule.stop(),
  };
}

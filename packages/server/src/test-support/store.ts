import type { StoredEvent } from '../store/context.js';
import { createStore, type AttemptRecord, type ClaimedDelivery, type Store } from '../store/index.js';
import type { TestDatabase } from './databases.js';

export interface StoreFixture {
  store: Store;
  /** Every event the store reported after commit, in order. */
  committed: StoredEvent[];
  close(): Promise<void>;
}

export async function openStore(target: TestDatabase): Promise<StoreFixture> {
  const database = await target.open();
  const committed: StoredEvent[] = [];
  const store = createStore(database, {
    fileUrl: (account, key) => `http://files.test/files/${account}/${key}`,
    attemptsPerDelivery: 4,
    onCommit: ({ events }) => committed.push(...events),
  });
  return {
    store,
    committed,
    async close() {
      await store.close();
      await target.drop();
    },
  };
}

/** An attempt as the worker records it, for store tests that play the worker: 2xx for a success, 500 otherwise unless given. */
export function attemptRecord(delivery: ClaimedDelivery, outcome: AttemptRecord['outcome'], statusCode = outcome.status === 'succeeded' ? 200 : 500): AttemptRecord {
  const ok = statusCode >= 200 && statusCode < 300;
  return {
    delivery,
    startedAt: Date.now(),
    durationMs: 3,
    statusCode,
    requestHeaders: { 'x-protocol-attempt': String(delivery.attempt) },
    responseHeaders: {},
    responseBody: 'ok',
    error: ok ? null : `HTTP ${statusCode}`,
    errorStage: ok ? null : 'http',
    outcome,
  };
}

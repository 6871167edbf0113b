import type { StoredEvent } from '../store/context.js';
import { createStore, type Store } from '../store/index.js';
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

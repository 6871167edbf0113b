import type { ListParams } from '../params.js';
import type { Page } from '../resources.js';

/**
 * A list call: await it for one page, or iterate it to walk every page
 * (`for await (const contact of client.contacts.list({ limit: 100 }))`).
 */
export type PagePromise<T> = Promise<Page<T>> & AsyncIterable<T>;

export function paginate<T extends { id: string }, P extends ListParams>(fetchPage: (params: P) => Promise<Page<T>>, params: P): PagePromise<T> {
  const first = fetchPage(params);
  // Iterating is a second way to consume the first page; without this a caller who only
  // iterates would see an unhandled rejection for a failed first page.
  first.catch(() => {});
  return Object.assign(first, {
    async *[Symbol.asyncIterator]() {
      let page = await first;
      for (;;) {
        yield* page.data;
        const last = page.data.at(-1);
        if (!page.has_more || !last || params.ending_before) return;
        page = await fetchPage({ ...params, starting_after: last.id });
      }
    },
  });
}

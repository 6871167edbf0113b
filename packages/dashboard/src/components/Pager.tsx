import { useState } from 'react';
import { Button } from './ui';

export type Cursor = { starting_after?: string; ending_before?: string };

/** Keyset paging for a newest-first list: the cursor to query with, and the buttons that move it. */
export function usePager() {
  const [cursor, setCursor] = useState<Cursor>({});
  return { cursor, reset: () => setCursor({}), setCursor };
}

export function Pager({ page, cursor, setCursor }: { page?: { has_more: boolean; data: Array<{ id: string }> }; cursor: Cursor; setCursor: (cursor: Cursor) => void }) {
  const data = page?.data ?? [];
  // has_more speaks of the direction we moved in; the other way there is more whenever we moved.
  const olderExists = cursor.ending_before ? true : Boolean(page?.has_more);
  const newerExists = cursor.ending_before ? Boolean(page?.has_more) : Boolean(cursor.starting_after);
  return (
    <div className="mt-4 flex gap-2">
      <Button disabled={!newerExists || !data.length} onClick={() => setCursor({ ending_before: data[0]!.id })}>
        Newer
      </Button>
      <Button disabled={!olderExists || !data.length} onClick={() => setCursor({ starting_after: data.at(-1)!.id })}>
        Older
      </Button>
    </div>
  );
}

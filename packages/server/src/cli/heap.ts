import v8 from 'node:v8';

/**
 * How far V8 lets old space grow past what the last full collection kept, before it collects
 * again, in a dedicated `protocol worker`: a factor of 1 + HEAP_GROWING_PERCENT / 100.
 *
 * Everything a delivery holds while it is in flight or waiting to be written outlives two
 * young-generation collections and is promoted, then dies: a worker draining a backlog promotes
 * tens of MB per second that only a full collection frees. V8 picks the factor from how cheap its
 * collections are; here they are cheap (under 1% of the time), so it chose ~4: a live heap of
 * ~33 MB grew to ~130 MB (160 MB committed) between full collections, and the worker's RSS peaked
 * at 293–300 MB in the million-delivery drain. At 2× it peaked at 221–229 MB in three drains, as
 * fast within this machine's noise (6.7k, 5.7k and 6.3k/s; 6.1k/s without, all in slow hours),
 * and spent ~1.2% of its time in collection instead of ~0.6%.
 *
 * Not in a process that serves the API: its live heap is small (~11 MB at 2,000 messages/s), so
 * the bound saves little there and only makes full collections frequent (4 instead of 1 in 6 s
 * at that rate, each pausing the event loop 2–8 ms), which is what the API's latency feels.
 */
export const HEAP_GROWING_PERCENT = 100;

/** Applies the bound to this process (every thread: V8's flags are process-wide). Read at every full collection, so it holds from here on. */
export function boundHeapGrowth(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

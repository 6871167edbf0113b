import type { Logger } from 'pino';
import { refusedData, type AttemptRecord, type Store } from '../store/index.js';

/** Results per write: one transaction for up to this many attempts. */
const BATCH = 200;
/** How long a result may wait for others to share its transaction. */
const LINGER_MS = 10;

/**
 * Records attempt outcomes in batches: one transaction per batch instead of one per attempt,
 * written one batch at a time. A failed write is retried; a result is dropped only if the
 * process dies or the database refuses it (`write`), and then the delivery's lease expires and
 * it is sent again (at-least-once).
 */
export class ResultWriter {
  private buffer: AttemptRecord[] = [];
  /** Results in the transaction being written: not yet durable either. */
  private inWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly options: { store: Store; owner: string; logger: Logger; disableAfterMs: number; onDisabled: (webhookIds: string[]) => void; onWritten: (batch: AttemptRecord[]) => void },
  ) {}

  /** Results not yet written: waiting, or in the transaction being written. */
  get backlog(): number {
    return this.buffer.length + this.inWrite;
  }

  start() {
    this.stopped = false;
  }

  add(record: AttemptRecord) {
    this.buffer.push(record);
    if (this.buffer.length >= BATCH) this.flushSoon(0);
    else this.flushSoon(LINGER_MS);
  }

  /** Writes what is buffered without waiting for more to share the transaction. */
  hurry() {
    if (this.buffer.length > 0) this.flushSoon(0);
  }

  private flushSoon(delay: number) {
    if (this.timer && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  /** Writes everything buffered; concurrent calls chain, so batches never overlap. */
  flush(): Promise<void> {
    const previous = this.writing ?? Promise.resolve();
    const next = previous.then(async () => {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, BATCH);
        this.inWrite = batch.length;
        const { left, error } = await this.write(batch).finally(() => (this.inWrite = 0));
        if (left.length === 0) continue;
        this.options.logger.error({ err: error, attempts: left.length }, 'recording attempts failed; retrying');
        this.buffer.unshift(...left);
        if (this.stopped) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
    this.writing = next;
    return next;
  }

  /**
   * Writes a batch, and returns what is left unwritten when the database failed (down, busy):
   * that is kept and retried. A batch the database refuses for what it holds (`refusedData`) is
   * written in halves, down to the one result refused, which is dropped: its delivery's lease
   * runs out and it is sent again. Kept, it would fail its batch at every retry and the worker
   * would record nothing more (a NUL in a receiver's answer did that on PostgreSQL).
   */
  private async write(batch: AttemptRecord[]): Promise<{ left: AttemptRecord[]; error?: unknown }> {
    const parts = [batch];
    while (parts.length > 0) {
      const part = parts.shift()!;
      try {
        const { disabled } = await this.options.store.claims.record(this.options.owner, part, { disableAfterMs: this.options.disableAfterMs });
        if (disabled.length > 0) {
          this.options.logger.warn({ webhooks: disabled }, 'webhooks disabled');
          this.options.onDisabled(disabled);
        }
        this.options.onWritten(part);
      } catch (error) {
        // Only what is not written yet goes back: a part already written must not be written twice.
        if (!refusedData(error)) return { left: [part, ...parts].flat(), error };
        if (part.length > 1) {
          const half = Math.floor(part.length / 2);
          parts.unshift(part.slice(0, half), part.slice(half));
          continue;
        }
        const [refused] = part;
        this.options.logger.error({ err: error, delivery: refused!.delivery.id, webhook: refused!.delivery.webhookId }, 'the database refused this attempt; it is not recorded, and its delivery is sent again when its lease runs out');
      }
    }
    return { left: [] };
  }

  async stop() {
    clearTimeout(this.timer);
    await this.flush();
    this.stopped = true;
  }
}

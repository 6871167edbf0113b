import type { Logger } from 'pino';
import type { AttemptRecord, Store } from '../store/index.js';

/** Results per write: one transaction for up to this many attempts. */
const BATCH = 200;
/** How long a result may wait for others to share its transaction. */
const LINGER_MS = 10;

/**
 * Records attempt outcomes in batches: one transaction per batch instead of one per attempt,
 * written one batch at a time. A failed write is retried; a result is dropped only if the
 * process dies, and then the delivery's lease expires and it is sent again (at-least-once).
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
        try {
          const { disabled } = await this.options.store.claims.record(this.options.owner, batch, { disableAfterMs: this.options.disableAfterMs }).finally(() => (this.inWrite = 0));
          if (disabled.length > 0) {
            this.options.logger.warn({ webhooks: disabled }, 'webhooks disabled');
            this.options.onDisabled(disabled);
          }
          this.options.onWritten(batch);
        } catch (error) {
          this.options.logger.error({ err: error, attempts: batch.length }, 'recording attempts failed; retrying');
          this.buffer.unshift(...batch);
          if (this.stopped) return;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    });
    this.writing = next;
    return next;
  }

  async stop() {
    clearTimeout(this.timer);
    await this.flush();
    this.stopped = true;
  }
}

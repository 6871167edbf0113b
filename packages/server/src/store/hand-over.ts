import type { ClaimedDelivery } from './claims.js';
import type { LeaseEnds } from './lease.js';

/**
 * A worker in this process that takes a change's deliveries as the change is written, instead of
 * claiming them after its commit. A claim is a write of its own (on SQLite a transaction with its
 * commit, then a SELECT of the leased rows): at 2,000 changes/s the lease, that SELECT and the
 * question of when the next delivery falls due came to a third of the main thread's SQLite time.
 * Deliveries the worker takes are inserted already leased to it and handed over after the commit;
 * the rest are inserted pending and claimed as before.
 */
export interface HandOver {
  owner: string;
  leaseMs: number;
  /** Whether it may take any now: when not (saturated, behind, stopping), a write does not ask, nor read what sending needs. */
  accepting(): boolean;
  /** Inside the write's transaction: which of these webhooks' new deliveries the worker takes now. It reserves their room. */
  reserve(webhookIds: readonly string[]): boolean[];
  /** The write rolled back, or runs again: the room reserved for these webhooks is free again. */
  cancel(webhookIds: readonly string[]): void;
  /** After the commit: the deliveries, leased to `owner`, to send. */
  deliver(deliveries: ClaimedDelivery[]): void;
}

/** What one run of a write's transaction reserved, and the deliveries it made for them. */
export class Reservation {
  readonly deliveries: ClaimedDelivery[] = [];
  private readonly reserved: string[] = [];
  private leaseEnd: number | undefined;

  constructor(
    private readonly handOver: HandOver,
    private readonly leaseEnds: LeaseEnds,
  ) {}

  get owner() {
    return this.handOver.owner;
  }

  /** The lease of every delivery this run hands over: one end, taken when the first is reserved. */
  get until(): number {
    return (this.leaseEnd ??= this.leaseEnds.next(this.handOver.owner, this.handOver.leaseMs));
  }

  reserve(webhookIds: readonly string[]): boolean[] {
    const taken = this.handOver.reserve(webhookIds);
    webhookIds.forEach((id, i) => taken[i] && this.reserved.push(id));
    return taken;
  }

  cancel(): void {
    this.handOver.cancel(this.reserved.splice(0));
  }

  deliver(): void {
    this.reserved.length = 0;
    if (this.deliveries.length > 0) this.handOver.deliver(this.deliveries);
  }
}

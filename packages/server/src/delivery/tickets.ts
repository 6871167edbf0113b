/**
 * Values waiting for an answer, each under a small number (a ticket) that is reused once taken
 * back: the worker's attempts in flight, and those on the sender thread.
 *
 * Not a Map: a Map's table is rebuilt as entries come and go (every hundred or so attempts
 * here), and a table that was promoted to old space keeps what it held, finished attempts and
 * their results, alive through young-generation collections until a full one. At saturation the
 * worker's thread kept 27% of each young generation with a Map for the sender thread's attempts
 * and another for its own in flight, 14% with the first replaced, 7% with both (the bare loop's:
 * ~7%). An array of tickets keeps no more than what is live. (The sender's own deadline Map of
 * attempts stays: its sweeper walks it in order, and a settled attempt has let go of everything.)
 */
export class Tickets<T> {
  private readonly held: Array<T | undefined> = [];
  private readonly free: number[] = [];
  private count = 0;

  /** How many values are held. */
  get size(): number {
    return this.count;
  }

  /** Holds `value`; the ticket that takes it back. */
  add(value: T): number {
    const ticket = this.free.pop() ?? this.held.length;
    this.held[ticket] = value;
    this.count++;
    return ticket;
  }

  /** The value held under `ticket` (undefined if none is), which is no longer held. */
  take(ticket: number): T | undefined {
    const value = this.held[ticket];
    if (value === undefined) return undefined;
    this.held[ticket] = undefined;
    this.free.push(ticket);
    this.count--;
    return value;
  }

  values(): T[] {
    return this.held.filter((value): value is T => value !== undefined);
  }

  clear() {
    this.held.length = 0;
    this.free.length = 0;
    this.count = 0;
  }
}

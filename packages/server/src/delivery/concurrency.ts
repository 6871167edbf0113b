/**
 * How many attempts one webhook may have in flight: data plus pure functions, like the retry
 * policy. An endpoint that answers quickly gets many slots, so one busy webhook can take a
 * worker's full speed; an unknown, slow or hanging one gets few, so it cannot hold up the others
 * (a hanging endpoint holds its slots until the delivery timeout).
 */
export const CONCURRENCY_LIMITS = {
  /** Slots for an endpoint that is new, slow, or has an attempt hanging. */
  cautious: 16,
  /** Slots for an endpoint that has been answering quickly. */
  fast: 64,
  /** "Quickly": the moving average of its attempts' durations is below this. */
  fastBelowMs: 250,
  /** An attempt in flight longer than this marks the endpoint as hanging. */
  hangingAfterMs: 1_000,
  /** Weight of the newest duration in the moving average. */
  smoothing: 0.2,
} as const;

export type ConcurrencyLimits = typeof CONCURRENCY_LIMITS;

/** The slots a webhook gets now, from its average duration (undefined: none finished yet) and its oldest attempt in flight. */
export function webhookSlots(averageMs: number | undefined, oldestInFlightMs: number, limits: ConcurrencyLimits = CONCURRENCY_LIMITS): number {
  const fast = averageMs !== undefined && averageMs < limits.fastBelowMs && oldestInFlightMs < limits.hangingAfterMs;
  return fast ? limits.fast : limits.cautious;
}

/** The moving average after one more attempt took `durationMs`. */
export function nextAverage(averageMs: number | undefined, durationMs: number, limits: ConcurrencyLimits = CONCURRENCY_LIMITS): number {
  return averageMs === undefined ? durationMs : averageMs + limits.smoothing * (durationMs - averageMs);
}

/**
 * Retry and disable policy: data (the schedule) plus pure functions, tested without a clock or
 * a network. After Svix: a plain list of delays, ±20% jitter, and a `Retry-After` honoured when
 * it asks for more time (clamped, so a receiver cannot park a delivery forever).
 */
export const JITTER = 0.2;
/** The longest `Retry-After` we honour. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

export type Decision =
  | { status: 'succeeded' }
  | { status: 'failed'; disableReason?: string }
  | { status: 'pending'; dueAt: number; disableReason?: string };

export interface AttemptOutcome {
  /** 1-based number of the attempt just made. */
  attempt: number;
  /** The attempt after which a failure is final. */
  finalAttempt: number;
  statusCode: number | null;
  /** Parsed `Retry-After`, in ms from now. */
  retryAfterMs?: number;
  /** When the attempt finished (ms). */
  now: number;
}

export function isSuccess(statusCode: number | null): boolean {
  return statusCode !== null && statusCode >= 200 && statusCode < 300;
}

/** The delay before retry number `retry` (1-based), jittered by up to ±20%. */
export function retryDelay(schedule: readonly number[], retry: number, random: () => number = Math.random): number {
  const base = schedule[Math.min(retry, schedule.length) - 1] ?? 0;
  return Math.round(base * (1 + JITTER * (2 * random() - 1)));
}

export function decide(outcome: AttemptOutcome, schedule: readonly number[], random: () => number = Math.random): Decision {
  if (isSuccess(outcome.statusCode)) return { status: 'succeeded' };
  // 410 Gone: the receiver says the endpoint is gone for good.
  const disableReason = outcome.statusCode === 410 ? `Disabled because the endpoint answered 410 Gone (attempt ${outcome.attempt})` : undefined;
  if (disableReason || outcome.attempt >= outcome.finalAttempt) return { status: 'failed', ...(disableReason && { disableReason }) };
  const scheduled = retryDelay(schedule, outcome.attempt, random);
  const delay = Math.max(scheduled, Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return { status: 'pending', dueAt: outcome.now + delay };
}

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

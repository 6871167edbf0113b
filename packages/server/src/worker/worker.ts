import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CONCURRENCY_LIMITS, nextAverage, webhookSlots, type ConcurrencyLimits } from '../delivery/concurrency.js';
import { decide } from '../delivery/policy.js';
import { createSender, type Sender, type SentAttempt } from '../delivery/sender.js';
import { createThreadedSender } from '../delivery/sender-thread.js';
import { Tickets } from '../delivery/tickets.js';
import type { Lookup } from '../delivery/ssrf.js';
import type { Metrics } from '../metrics/metrics.js';
import type { AttemptRecord, ClaimedDelivery, HandOver, Store } from '../store/index.js';
import { ResultWriter } from './result-writer.js';

export interface WorkerOptions {
  store: Store;
  logger: Logger;
  metrics?: Metrics;
  retryScheduleMs: readonly number[];
  deliveryTimeoutMs: number;
  disableAfterMs: number;
  allowPrivateUrls: boolean;
  /** Attempts in flight at once, across all webhooks. */
  concurrency?: number;
  /** Results not yet recorded, at most: claiming pauses there until writes catch up (memory stays bounded when the database is slow). */
  unwritten?: number;
  /** Attempts in flight at once to one webhook (delivery/concurrency.ts), so a slow or dead endpoint cannot hold up the others. */
  perWebhook?: ConcurrencyLimits;
  /** The most deliveries one claim takes. */
  batchSize?: number;
  /** The safety-net poll when nothing wakes the worker. */
  pollMs?: number;
  /** DNS for the connect-time check (tests inject a fake one); with it the sender runs in-process. */
  lookup?: Lookup;
  /** Send from a thread of its own (the default), or from the worker's thread. */
  senderThread?: boolean;
}

/**
 * The delivery worker. One loop claims due deliveries in batches under a lease, hands them to
 * the sender (bounded in total and per webhook), and a ResultWriter records outcomes in
 * batches. It sleeps until the next delivery falls due, a commit or NOTIFY wakes it, a slot
 * frees while work waits for one, or the poll interval passes — never longer.
 */
export function createWorker(options: WorkerOptions) {
  const { store, logger, metrics } = options;
  const concurrency = options.concurrency ?? 128;
  // Room for the results of several sending rounds: sending goes on while a batch is written.
  // Bounded at the sending room (128), the worker idled through every write: a drain ran at
  // 11.6k/11.1k deliveries/s, against 13.5k/12.1k with 512.
  const unwrittenLimit = options.unwritten ?? 4 * concurrency;
  const limits = options.perWebhook ?? CONCURRENCY_LIMITS;
  const batchSize = options.batchSize ?? 64;
  const pollMs = options.pollMs ?? 1000;
  // A held delivery waits at most one round behind its webhook's in-flight attempts, then sends.
  const leaseMs = 2 * options.deliveryTimeoutMs + 5_000;
  const owner = `worker-${randomUUID()}`;
  // Pools are per origin, but the cap is per webhook: two webhooks on one origin (one hanging)
  // must not share a handful of sockets, so an origin may open as many as the worker sends at once.
  const senderOptions = { timeoutMs: options.deliveryTimeoutMs, allowPrivateUrls: options.allowPrivateUrls, connectionsPerOrigin: concurrency };
  const sender: Sender =
    (options.senderThread ?? true) && !options.lookup ? createThreadedSender(senderOptions) : createSender({ ...senderOptions, lookup: options.lookup });
  const writer = new ResultWriter({ store, owner, logger, disableAfterMs: options.disableAfterMs, onDisabled: (ids) => ids.forEach(dropQueued), onWritten });

  /** Per webhook: attempts in flight (by start time), and claimed deliveries waiting for a slot. */
  const held = new Map<string, { started: Map<string, number>; queue: ClaimedDelivery[] }>();
  /** Per webhook: the moving average of its attempts' durations, which earns it more slots. */
  const averageMs = new Map<string, number>();
  /** Deliveries being sent, by ticket (tickets.ts). */
  const inFlight = new Tickets<ClaimedDelivery>();
  /** Attempts cut short by shutdown: not attempts; their deliveries are given back instead. */
  const abandoned = new Set<string>();
  let heldCount = 0;
  /** Room reserved by writes in progress for deliveries handed over at their commit, in all and per webhook. */
  let reserved = 0;
  const reservedBy = new Map<string, number>();
  /** The last claim took every due delivery it could: nothing waits in the database that new ones would overtake. */
  let caughtUp = false;
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  /**
   * Whether an attempt that ends (or a written batch) wakes the loop to claim again: while the
   * last claim found deliveries, or may have left some behind for want of room, in all or for
   * some webhooks. Once a claim finds nothing, new deliveries announce themselves (a commit in
   * this process, NOTIFY from others) and retries fall due on the loop's timer.
   * - Waking on every attempt regardless made PostgreSQL workers claim (and ask when the next is
   *   due) ~5 times per change of 20 deliveries at a steady 60 changes/s, mostly finding nothing.
   * - Waking only for want of room left a steady flow waiting for each NOTIFY: on PostgreSQL at
   *   500 changes/s, p50 and p99 latency rose by ~40%. While deliveries flow, the claim an ending
   *   attempt triggers finds the next ones sooner.
   */
  let claimAgain = false;

  const wake = () => {
    woken = true;
    wakeUp?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  /** A written batch wakes the loop as an ending attempt does (claiming may have waited for it), or if it scheduled retries (news to the loop's timer). */
  function onWritten(batch: AttemptRecord[]) {
    if (claimAgain || batch.some((r) => r.outcome.status === 'pending')) wake();
  }

  function slot(webhookId: string) {
    let entry = held.get(webhookId);
    if (!entry) held.set(webhookId, (entry = { started: new Map(), queue: [] }));
    return entry;
  }

  /** A webhook's slots now; one with nothing held (no entry) gets a new endpoint's, or what its average earned. */
  function slotsOf(webhookId: string, entry: { started: Map<string, number> } | undefined) {
    const oldest = entry?.started.values().next().value; // insertion order: the first is the oldest
    return webhookSlots(averageMs.get(webhookId), oldest === undefined ? 0 : Date.now() - oldest, limits);
  }

  /** A webhook's attempts in flight, deliveries waiting for its slots, and room reserved for it. */
  const inUse = (webhookId: string, entry: { started: Map<string, number>; queue: ClaimedDelivery[] } | undefined) =>
    (entry ? entry.started.size + entry.queue.length : 0) + (reservedBy.get(webhookId) ?? 0);

  function dropQueued(webhookId: string) {
    const entry = held.get(webhookId);
    if (!entry) return;
    heldCount -= entry.queue.length;
    entry.queue = [];
  }

  function dispatch(delivery: ClaimedDelivery) {
    const entry = slot(delivery.webhookId);
    if (entry.started.size >= slotsOf(delivery.webhookId, entry)) {
      entry.queue.push(delivery);
      return;
    }
    entry.started.set(delivery.id, Date.now());
    const ticket = inFlight.add(delivery);
    void sender.send(delivery).then(
      (sent) => finished(delivery, entry, ticket, sent),
      (error: Error) => {
        // The sender thread died: no outcome is known, so the delivery is given back and sent again.
        logger.error({ err: error, delivery: delivery.id }, 'sending failed; the delivery is given back');
        void store.claims.release(owner, [delivery]).catch(() => undefined); // else its lease runs out
        finished(delivery, entry, ticket);
      },
    );
  }

  function finished(delivery: ClaimedDelivery, entry: { started: Map<string, number>; queue: ClaimedDelivery[] }, ticket: number, sent?: SentAttempt) {
    inFlight.take(ticket);
    if (sent && !abandoned.has(delivery.id)) writer.add(toRecord(sent));
    abandoned.delete(delivery.id);
    entry.started.delete(delivery.id);
    if (sent) {
      if (averageMs.size > 100_000) averageMs.clear(); // bounded: forgetting only means starting cautious again
      averageMs.set(delivery.webhookId, nextAverage(averageMs.get(delivery.webhookId), sent.durationMs, limits));
    }
    heldCount--;
    // Fill every free slot: a webhook that just earned the fast allowance gets it at once.
    while (entry.queue.length > 0 && entry.started.size < slotsOf(delivery.webhookId, entry)) dispatch(entry.queue.shift()!);
    if (entry.started.size === 0 && entry.queue.length === 0) held.delete(delivery.webhookId);
    if (claimAgain) wake();
  }

  function toRecord(sent: SentAttempt): AttemptRecord {
    const decision = decide(
      { attempt: sent.delivery.attempt, finalAttempt: sent.delivery.finalAttempt, statusCode: sent.statusCode, retryAfterMs: sent.retryAfterMs, now: Date.now() },
      options.retryScheduleMs,
    );
    const label = decision.status === 'pending' ? 'retrying' : decision.status;
    metrics?.attempts.inc({ outcome: label });
    metrics?.attemptDuration.observe({ outcome: label }, sent.durationMs / 1000);
    if (decision.status !== 'pending') metrics?.deliveries.inc({ outcome: decision.status });
    // Successes are the bulk and go at debug; anything that failed is worth an info line. The
    // line's object is built only when its level is on (with the record's spreads, it made this
    // function 7% of what the worker's thread allocates per delivery).
    const level = decision.status === 'succeeded' ? 'debug' : 'info';
    if (logger.isLevelEnabled(level)) {
      logger[level](
        { webhook: sent.delivery.webhookId, delivery: sent.delivery.id, event: sent.delivery.eventId, attempt: sent.delivery.attempt, status: sent.statusCode, stage: sent.errorStage, outcome: label, ms: Math.round(sent.durationMs) },
        'delivery attempt',
      );
    }
    const { delivery, startedAt, durationMs, statusCode, requestHeadersJson, responseHeadersJson, responseBody, error, errorStage } = sent;
    return { delivery, startedAt, durationMs, statusCode, requestHeadersJson, responseHeadersJson, responseBody, error, errorStage, outcome: decision };
  }

  async function claimOnce(): Promise<boolean> {
    // Results not yet written have their own bound rather than a share of the sending room:
    // counting them there kept sending idle for each batch's linger, ~13% of SQLite throughput.
    if (writer.backlog >= unwrittenLimit) {
      writer.hurry(); // unwritten results are what holds the worker: write them now
      claimAgain = true;
      caughtUp = false;
      return false;
    }
    const room = Math.min(concurrency - heldCount - reserved, batchSize);
    if (room <= 0) {
      claimAgain = true;
      caughtUp = false;
      return false;
    }
    const saturated = [...held].filter(([id, entry]) => inUse(id, entry) >= slotsOf(id, entry)).map(([id]) => id);
    const claimed = await store.claims.claim(owner, { limit: room, leaseMs, exclude: saturated });
    claimAgain = claimed.length > 0 || saturated.length > 0;
    caughtUp = claimed.length < room && saturated.length === 0;
    const disabled = claimed.filter((d) => !d.webhookEnabled);
    if (disabled.length) await store.claims.dropDisabled(owner, disabled);
    for (const delivery of claimed) {
      if (!delivery.webhookEnabled) continue;
      heldCount++;
      dispatch(delivery);
    }
    return claimed.length === room;
  }

  async function run() {
    while (running) {
      // SQLite's driver answers synchronously; yielding here keeps sockets and timers served.
      await new Promise((resolve) => setImmediate(resolve));
      woken = false;
      let full = false;
      try {
        full = await claimOnce();
      } catch (error) {
        caughtUp = false;
        logger.error({ err: error }, 'claiming deliveries failed; retrying');
        await sleep(pollMs);
        continue;
      }
      if (full) continue;
      if (heldCount >= concurrency) {
        await sleep(pollMs);
        continue;
      }
      const next = await store.claims.nextDueAt().catch(() => undefined);
      const untilDue = next === undefined ? pollMs : next - Date.now();
      if (untilDue > 0) {
        await sleep(Math.min(untilDue, pollMs));
        continue;
      }
      // Due already. If the claim took all it could, it fell due since the claim looked (a retry
      // written meanwhile): claim again now; waiting for the poll left it up to a poll late.
      // Otherwise due work was left for want of room or slots: an ending attempt wakes us.
      if (caughtUp) continue;
      await sleep(pollMs);
    }
  }

  const unreserve = (webhookId: string) => {
    reserved--;
    const left = (reservedBy.get(webhookId) ?? 1) - 1;
    if (left > 0) reservedBy.set(webhookId, left);
    else reservedBy.delete(webhookId);
  };

  /**
   * Takes a change's deliveries as it is written (store/hand-over.ts), only while nothing due
   * waits in the database (they would overtake it) and within the same bounds as a claim: the
   * sending room, each webhook's slots, the unwritten results.
   */
  const handOver: HandOver = {
    owner,
    leaseMs,
    accepting: () => running && caughtUp && writer.backlog < unwrittenLimit && heldCount + reserved < concurrency,
    reserve(webhookIds) {
      return webhookIds.map((id) => {
        if (!handOver.accepting()) return false;
        const entry = held.get(id);
        if (inUse(id, entry) >= slotsOf(id, entry)) return false;
        reserved++;
        reservedBy.set(id, (reservedBy.get(id) ?? 0) + 1);
        return true;
      });
    },
    cancel(webhookIds) {
      webhookIds.forEach(unreserve);
    },
    deliver(deliveries) {
      deliveries.forEach((delivery) => unreserve(delivery.webhookId));
      // Stopping meanwhile: given back, due at once for the next worker.
      if (!running) return void store.claims.release(owner, deliveries).catch(() => undefined);
      for (const delivery of deliveries) {
        heldCount++;
        dispatch(delivery);
      }
    },
  };

  return {
    owner,
    handOver,
    /** The sender (its thread, for tests that make it fail). */
    sender,
    wake,
    start() {
      if (running) return;
      running = true;
      writer.start();
      loop = run();
    },
    /**
     * Stops claiming, lets attempts in flight finish within `graceMs`, aborts the rest and
     * releases every delivery it still holds, then writes the last results.
     */
    async stop(graceMs = 10_000) {
      running = false;
      wake();
      await loop;
      const queued = [...held.values()].flatMap((entry) => entry.queue);
      held.forEach((entry) => (entry.queue = []));
      const deadline = Date.now() + graceMs;
      while (inFlight.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const aborted = [...inFlight.values()];
      aborted.forEach((delivery) => abandoned.add(delivery.id));
      sender.abortAll();
      const abortDeadline = Date.now() + 1000; // aborted attempts end at once; a hung sender thread is not waited for
      while (inFlight.size > 0 && Date.now() < abortDeadline) await new Promise((resolve) => setTimeout(resolve, 5));
      await writer.stop();
      await store.claims.release(owner, [...queued, ...aborted]);
      await sender.close();
    },
  };
}

export type Worker = ReturnType<typeof createWorker>;

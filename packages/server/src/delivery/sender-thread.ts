import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ClaimedDelivery } from '../store/index.js';
import { createSender, SENDABLE, type Sendable, type Sender, type SenderOptions, type SentAttempt } from './sender.js';
import { Tickets } from './tickets.js';

/** Messages between the worker and its sender thread. Batched: one postMessage per turn of either event loop. */
export type ToThread = { type: 'send'; batch: Packed } | { type: 'abort-all' } | { type: 'close' };
export type FromThread = { type: 'ready' } | { type: 'sent'; batch: Packed } | { type: 'closed' };

/**
 * A batch as it crosses between the threads: per item its ticket, then its fields' values in the
 * order below, all in one flat array. A structured clone writes every property's name with every
 * object it copies, and the sender needs only some of a delivery's fields. Side by side at a
 * steady rate (`npm run bench:ab`, each build in both positions), this form took ~2% less CPU per
 * delivery than arrays of objects, lower in 23 of 24 rounds (session 28).
 */
export type Packed = unknown[];
export type Answer = Omit<SentAttempt, 'delivery'>;
// Every field of an answer, or it does not compile: a field added to SentAttempt and left out here
// would otherwise be dropped silently on its way back from the thread.
const ANSWER_FIELDS: Record<keyof Answer, true> = { startedAt: true, durationMs: true, statusCode: true, requestHeadersJson: true, responseHeadersJson: true, responseBody: true, error: true, errorStage: true, retryAfterMs: true };
const ANSWER = Object.keys(ANSWER_FIELDS) as Array<keyof Answer>;

/** Appends an item: its ticket, then `value`'s fields named by `keys`. */
function pack<T>(batch: Packed, keys: ReadonlyArray<keyof T>, ticket: number, value: T): void {
  batch.push(ticket);
  for (const key of keys) batch.push(value[key]);
}

/** The items of a packed batch, each with its ticket. */
function* unpack<T>(batch: Packed, keys: ReadonlyArray<keyof T>): Generator<[number, T]> {
  for (let at = 0; at < batch.length; at += keys.length + 1) {
    const value = {} as T;
    for (let k = 0; k < keys.length; k++) value[keys[k]!] = batch[at + 1 + k] as T[keyof T];
    yield [batch[at] as number, value];
  }
}

export const packSend = (batch: Packed, ticket: number, delivery: Sendable) => pack(batch, SENDABLE, ticket, delivery);
export const unpackSends = (batch: Packed) => unpack<Sendable>(batch, SENDABLE);
export const packAnswer = (batch: Packed, ticket: number, answer: Answer) => pack(batch, ANSWER, ticket, answer);
export const unpackAnswers = (batch: Packed) => unpack<Answer>(batch, ANSWER);

/** The sender thread failed; its attempts in flight have no outcome (the worker gives their deliveries back). */
export class SenderThreadError extends Error {}

// The thread's entry beside this file: `.js` when built. From source (tests run under tsx) it is
// `.ts`, and Node 20 does not carry `--import` hooks into worker threads, so the thread registers tsx first.
const FROM_SOURCE = path.extname(fileURLToPath(import.meta.url)) === '.ts';
const ENTRY = new URL(`./sender-thread-main${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);
const startThread = (entry: URL, workerData: unknown) =>
  FROM_SOURCE
    ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, workerData })
    : new Worker(entry, { workerData });

/**
 * The sender (signing, HTTP, reading answers) on its own thread, so on a 2-core machine the
 * database work and the HTTP work of a busy worker each get a core: in one thread, HTTP on both
 * sides of the socket was a third of the profile. Same interface as `createSender`. A thread
 * that dies fails the attempts it held with SenderThreadError and a new one takes over; one that
 * cannot start at all leaves the sending to an in-process sender.
 *
 * The connect-time DNS check runs in the thread with the system resolver; a `lookup` function
 * cannot cross to a thread, so a worker given one (tests with fake DNS) sends in-process.
 */
export function createThreadedSender(options: Omit<SenderOptions, 'lookup'>, entry = ENTRY): Sender & { readonly thread: Worker } {
  // The id that crosses to the thread is a ticket, reused once its answer is back (tickets.ts).
  const pending = new Tickets<{ delivery: ClaimedDelivery; resolve: (sent: SentAttempt) => void; reject: (error: Error) => void }>();
  let outbox: Packed = [];
  let closing: Promise<void> | undefined;
  let fallback: Sender | undefined;
  const exited = new WeakSet<Worker>();
  let thread = spawn();

  function spawn(): Worker {
    const worker = startThread(entry, options);
    worker.unref(); // only attempts in flight keep the process alive (ref'd below)
    let ready = false;
    worker.on('message', (message: FromThread) => {
      // A thread given up on: its attempts were failed, and their tickets may be someone else's by now.
      if (worker !== thread) return;
      if (message.type === 'ready') ready = true;
      if (message.type !== 'sent') return;
      for (const [id, answer] of unpackAnswers(message.batch)) {
        const entry = pending.take(id);
        if (!entry) continue;
        // The unpacked answer is this thread's own: completed in place rather than copied (the
        // spread was ~1% of the main thread's profile at saturation).
        entry.resolve(Object.assign(answer, { delivery: entry.delivery }));
      }
      if (pending.size === 0) worker.unref();
    });
    const failAll = (error: Error) => {
      if (worker !== thread) return;
      for (const entry of pending.values()) entry.reject(error);
      pending.clear();
      if (closing) return;
      if (ready) thread = spawn();
      else fallback ??= createSender(options);
    };
    worker.on('error', (error) => failAll(new SenderThreadError(`the sender thread failed: ${error.message}`)));
    worker.on('exit', (code) => {
      exited.add(worker);
      failAll(new SenderThreadError(`the sender thread exited (code ${code})`));
    });
    return worker;
  }

  const flush = () => {
    const batch = outbox;
    outbox = [];
    thread.postMessage({ type: 'send', batch } satisfies ToThread);
  };

  return {
    get thread() {
      return thread;
    },
    send(delivery) {
      if (closing) return Promise.reject(new SenderThreadError('the sender is closed'));
      if (fallback) return fallback.send(delivery);
      if (pending.size === 0) thread.ref();
      if (outbox.length === 0) queueMicrotask(flush); // a whole claim goes over in one message
      return new Promise<SentAttempt>((resolve, reject) => packSend(outbox, pending.add({ delivery, resolve, reject }), delivery));
    },
    abortAll() {
      fallback?.abortAll();
      thread.postMessage({ type: 'abort-all' } satisfies ToThread);
    },
    close() {
      closing ??= (async () => {
        const current = thread;
        const closed = new Promise<void>((resolve) => {
          if (exited.has(current)) return resolve();
          current.on('message', (message: FromThread) => message.type === 'closed' && resolve());
          current.once('exit', () => resolve());
        });
        current.postMessage({ type: 'close' } satisfies ToThread);
        await closed;
        await current.terminate();
        await fallback?.close();
      })();
      return closing;
    },
  };
}

// One side of the bench's "sending alone" scenario, in a process of its own so that its CPU and
// its garbage collections are its own: SENDER=protocol is the worker's sender (delivery/sender.ts:
// both signatures, a deadline per attempt, the answer's status, headers and body kept), and
// SENDER=undici is how the bare loops send (bare-send.ts: `Pool.request`, the answer dumped).
// Both keep 128 attempts in flight to the receiver, the worker's sending room, with the same
// bodies. A difference here is the sender's own: session 13 found settled attempts keeping their
// results alive through young-generation collections this way (~40 µs per attempt against ~30).
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Pool } from 'undici';
import { createSender } from '../packages/server/src/delivery/sender.js';
import { postSigned } from './bare-send.js';
import { eventBody } from './systems.js';

const IN_FLIGHT = 128;
const WEBHOOKS = Number(process.env.WEBHOOKS);
const receiver = process.env.RECEIVER!;
const protocol = process.env.SENDER === 'protocol';
const sender = createSender({ timeoutMs: 15_000, allowPrivateUrls: true, connectionsPerOrigin: IN_FLIGHT });
const pool = new Pool(receiver, { connections: IN_FLIGHT });
let secrets: Record<string, string> = {};

let youngGcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) youngGcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

/** Attempt `n`: to one of the webhooks in turn, a change's body shared by its attempts as a claim shares it. */
function attempt(n: number, body: string): Promise<boolean> {
  const hook = n % WEBHOOKS;
  const path = `/hook/${hook}`;
  if (!protocol) return postSigned(pool, { path, event_id: `evt_${Math.floor(n / WEBHOOKS)}`, body }, secrets[path]!);
  const delivery = {
    id: `dlv_${n}`,
    seq: n,
    webhookSeq: hook,
    accountId: 'acc_bench',
    eventId: `evt_${Math.floor(n / WEBHOOKS)}`,
    eventType: 'message.created',
    webhookId: `wh_${hook}`,
    url: `${receiver}${path}`,
    body,
    attempt: 1,
    finalAttempt: 8,
    secrets: [secrets[path]!],
    protocolSecret: secrets[path]!,
    webhookEnabled: true,
  };
  return sender.send(delivery).then((sent) => sent.statusCode === 200);
}

/** `count` attempts, 128 in flight; rejects if any was not answered 200. */
async function run(count: number) {
  let next = 0;
  let failed = 0;
  let body = '';
  const usage = process.cpuUsage();
  const gcBefore = youngGcMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        const n = next++;
        if (n % WEBHOOKS === 0) body = eventBody(String(n / WEBHOOKS));
        if (!(await attempt(n, body))) failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(usage);
  if (failed > 0) throw new Error(`${failed} of ${count} attempts were not answered 200`);
  return { perSecond: count / seconds, cpuUs: (cpu.user + cpu.system) / count, youngGcMsPerThousand: ((youngGcMs - gcBefore) * 1000) / count };
}

process.on('message', async (message: { secrets?: Record<string, string>; run?: number; stop?: boolean }) => {
  if (message.secrets) secrets = message.secrets;
  if (message.run) {
    try {
      const warmUp = Math.min(2_000, message.run); // not measured
      await run(warmUp);
      process.send!({ result: await run(message.run), sent: warmUp + message.run });
    } catch (error) {
      process.send!({ error: (error as Error).message });
    }
  }
  if (message.stop) {
    await Promise.all([sender.close(), pool.close()]);
    process.exit(0);
  }
});
process.send!('ready');

// The systems under test, each started fresh: the L0 ceiling, Protocol (SQLite; PostgreSQL with
// 1 API + 2 workers) and the BullMQ baseline.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { signWebhook } from '@protocol/sdk';
import { cpuMeter, machineMeter, now, sleep } from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'packages/server/bin/protocol.js');
export const KEY = 'sk_bench_0123456789abcdefghijklmnop';
export const POSTGRES_URL = process.env.PROTOCOL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Running {
  /** Processes whose CPU and memory are reported. */
  pids: Record<string, number>;
  /** Path → secret, for the receiver's HMAC check. */
  secrets: Record<string, string>;
  /** Makes `changes` changes (each fans out to every webhook) at most `rate` per second; resolves with each change's id → ack time. */
  produce(changes: number, options?: { rate?: number; concurrency?: number }): Promise<Map<string, number>>;
  stop(): Promise<void>;
  /** Protocol only: the API's origin, a JSON caller, and a way to make another account. */
  url?: string;
  call?: (method: string, route: string, body?: unknown, key?: string) => Promise<any>;
  createAccount?: (name: string) => Promise<string>;
  /** Protocol only: starts a `protocol worker` process on the same database; resolves with its pid. */
  addWorker?: () => Promise<number>;
  /** Protocol on PostgreSQL only: the database server's processes serving this system's connections now. */
  databasePids?: () => Promise<number[]>;
}

export interface SystemOptions {
  receiverUrl: string;
  webhooks: number;
}

/** The receiver (receiver.ts) in its own process, and the orchestrator's side of its IPC. */
export async function startReceiver() {
  const child = fork(fileURLToPath(new URL('./receiver.ts', import.meta.url)), [], { execArgv: ['--conditions=source', '--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  /** Sends `type` and resolves with the first answer of type `reply`. */
  const ask = <T>(type: string, reply: string, extra: object = {}) =>
    new Promise<T>((resolve) => {
      const onMessage = (m: { type: string }) => {
        if (m.type === reply) {
          child.off('message', onMessage);
          resolve(m as T);
        }
      };
      child.on('message', onMessage);
      child.send({ type, ...extra });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    send: (message: { type: string; [key: string]: unknown }) => child.send(message),
    ask,
    /** Deliveries received (and how many failed the signature check) since the last reset. */
    count: () => ask<{ count: number; bad: number }>('count', 'count'),
    /** Until `target` deliveries have arrived (at most `timeoutMs`): when, and how many. A delivery that failed the signature check fails the run. */
    async waitFor(target: number, timeoutMs: number): Promise<{ at: number; count: number }> {
      const deadline = now() + timeoutMs;
      for (;;) {
        const { count, bad } = await ask<{ count: number; bad: number }>('count', 'count');
        if (bad > 0) throw new Error(`${bad} deliveries failed the receiver's signature check`);
        if (count >= target) return { at: now(), count };
        if (now() > deadline) throw new Error(`only ${count} of ${target} deliveries arrived in ${timeoutMs} ms`);
        await sleep(count / target > 0.95 ? 2 : 20);
      }
    },
    kill: () => child.kill(),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * The throughput scenario's measurement, shared by `npm run bench` and `bench:ab --saturated`: a
 * warm-up of `warmUp` changes, all delivered and then forgotten by the receiver, then `changes`
 * changes as fast as the system takes them (16 at a time), timed until their last delivery arrives.
 *
 * The measured run is short (40,000 deliveries in the bench), so what it measures is the steady
 * state only after a warm-up, the same for every system. Without one, V8's compiler threads in
 * Protocol's process spent ~20 µs per delivery on optimizing code. After 500 changes they still
 * optimized ~150 functions during the measured run (a third of those threads' CPU), and
 * Protocol's CPU per delivery kept falling run after run in one process: 209, 169, 162, 160, 147 µs
 * over five runs of 2,000 changes (the bare loop's 73, 72, 65, 68, 65 µs). From 4,000 on it has settled.
 */
export async function measureThroughput(system: Running, receiver: Receiver, options: { warmUp: number; changes: number; webhooks: number }) {
  const deliveries = options.changes * options.webhooks;
  if (options.warmUp > 0) {
    await system.produce(options.warmUp, { concurrency: 16 });
    await receiver.waitFor(options.warmUp * options.webhooks, 120_000);
    receiver.send({ type: 'reset-arrivals' });
  }
  const meter = cpuMeter({ ...system.pids, receiver: receiver.pid });
  const machine = machineMeter();
  const started = now();
  await system.produce(options.changes, { concurrency: 16 });
  const produced = now();
  const finished = await receiver.waitFor(deliveries, 300_000);
  return {
    perSecond: deliveries / ((finished.at - started) / 1000),
    delivered: finished.count,
    /** How fast the changes themselves were acknowledged (API calls, or BullMQ enqueues). */
    changesPerSecond: options.changes / ((produced - started) / 1000),
    usage: meter(),
    /** The whole machine's CPU per delivery (µs), and how busy it was (% of all cores). */
    machine: machine(deliveries),
  };
}

/** A Protocol-shaped delivery body for the systems that make their own. */
export function eventBody(id: string): string {
  return JSON.stringify({
    id: `evt_${id}`,
    type: 'message.created',
    payload: { id, conversation_id: 'xgQQXg3hrtjh7AvZ', contact: null, message: 'I’m traveling with my dad. He’s at a meeting. I hate meetings.', reactions: [], attachments: [], read_at: null, created_at: 1764201600, updated_at: 1764201600 },
  });
}

function secretFor(i: number): string {
  return `whsec_${Buffer.alloc(32, i + 1).toString('base64')}`;
}

/** BENCH_PROFILE_DIR=<dir>: each system's process writes a V8 CPU profile there when it exits. */
const profileArgs = () => (process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []);

/** Path → secret of each webhook, for the systems that sign with their own secrets. */
export const hookSecrets = (webhooks: number): Record<string, string> => Object.fromEntries(Array.from({ length: webhooks }, (_, i) => [`/hook/${i}`, secretFor(i)]));

/** A helper process of the bench's (a `.ts` beside this file, run from source), once it is ready and has the secrets. */
export async function startHelper(file: string, env: Record<string, string>, secrets: Record<string, string>): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), [], { execArgv: ['--conditions=source', '--import', 'tsx', ...profileArgs()], env: { ...process.env, ...env } });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  child.send({ secrets });
  return child;
}

/** Paces work: `rate` per second in small slices, or as fast as `concurrency` allows. */
async function pace(count: number, options: { rate?: number; concurrency?: number }, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  if (!options.rate) {
    await Promise.all(Array.from({ length: options.concurrency ?? 16 }, async () => {
      while (next < count) await one(next++);
    }));
    return;
  }
  const started = now();
  const inflight: Promise<void>[] = [];
  while (next < count) {
    const due = Math.min(count, Math.floor(((now() - started) / 1000) * options.rate));
    while (next < due) inflight.push(one(next++));
    await sleep(2);
  }
  await Promise.all(inflight);
}

/** L0: the receiver fed directly by one undici Pool of 64 connections with signed POSTs. */
export async function startL0({ receiverUrl, webhooks }: SystemOptions): Promise<Running> {
  const pool = new Pool(receiverUrl, { connections: 64, pipelining: 1 });
  const secrets = hookSecrets(webhooks);
  return {
    pids: {},
    secrets,
    async produce(changes, options = {}) {
      const acks = new Map<string, number>();
      await pace(changes * webhooks, { rate: options.rate && options.rate * webhooks, concurrency: 256 }, async (n) => {
        const change = Math.floor(n / webhooks);
        const hook = n % webhooks;
        const id = `l0${change}`;
        if (hook === 0) acks.set(id, now());
        const body = eventBody(id);
        const headers = signWebhook({ id: `evt_${id}`, timestamp: Math.floor(Date.now() / 1000), body, secrets: [secretFor(hook)] });
        const response = await pool.request({ path: `/hook/${hook}`, method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
        await response.body.dump();
      });
      return acks;
    },
    stop: () => pool.close(),
  };
}

function startProcess(args: string[], env: Record<string, string>, bin = BIN): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    // Node's own flags for this process (`--b-env=BENCH_NODE_ARGS=--flag`): NODE_OPTIONS refuses V8's.
    const nodeArgs = env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...profileArgs(), ...nodeArgs, bin, ...args], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk;
      const match = /running at (http:\/\/\S+)/.exec(out);
      if (match) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining its logs
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`protocol ${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

/** One statement as the database's owner (schemas are made and dropped, processes found, this way); its rows. */
async function admin<T extends pg.QueryResultRow>(statement: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<T>(statement, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A fresh schema for one system: its URL, named after the schema so the database server's
 * processes that serve the system can be found (bench:ab counts their CPU); those processes; and
 * dropping it.
 */
async function freshSchema(prefix: string) {
  const schema = `${prefix}_${process.pid}_${Date.now()}`;
  await admin(`create schema ${schema}`);
  return {
    url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}&application_name=${schema}`,
    serverPids: async () => (await admin<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [schema])).map((row) => row.pid),
    drop: async () => void (await admin(`drop schema if exists ${schema} cascade`)),
  };
}

/** A bare loop's `produce`: a change is one IPC message to `child`, acknowledged once it is stored. */
function producerOverIpc(child: ChildProcess, prefix: string): Running['produce'] {
  const waiting = new Map<string, (at: number) => void>();
  child.on('message', (message: { acked?: string; at?: number }) => message.acked && waiting.get(message.acked)?.(message.at!));
  return async (changes, options = {}) => {
    const acks = new Map<string, number>();
    await pace(changes, { ...options, concurrency: options.concurrency ?? 16 }, async (change) => {
      const id = `${prefix}${change}`;
      const at = await new Promise<number>((resolve) => (waiting.set(id, resolve), child.send({ change: id })));
      waiting.delete(id);
      acks.set(id, at);
    });
    return acks;
  };
}

/**
 * Protocol as users run it: the real `protocol` processes, a fresh database, webhooks made through
 * the API. `root` runs another (built) checkout's `protocol` instead of this one's; `env` is added
 * to its processes' environment (bench/ab.ts compares two builds or settings that way).
 */
export async function startProtocol(
  options: SystemOptions & { database: 'sqlite' | 'postgres'; workers?: number; apiOnly?: boolean; root?: string; env?: Record<string, string> },
): Promise<Running> {
  const bin = options.root ? path.join(options.root, 'packages/server/bin/protocol.js') : BIN;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-bench-'));
  let schema: Awaited<ReturnType<typeof freshSchema>> | undefined;
  const processes: Array<{ name: string; child: ChildProcess }> = [];
  let client: Pool | undefined;
  /** Stops what was started and removes its database: on stop, and when starting failed halfway. */
  async function teardown() {
    await client?.close();
    const running = processes.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    await Promise.all(running.map(({ child }) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))));
    await schema?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  let databaseUrl = `sqlite:${path.join(dataDir, 'protocol.db')}`;
  const env: Record<string, string> = { ...options.env, PROTOCOL_DATA_DIR: dataDir, PROTOCOL_API_KEY: KEY, PROTOCOL_ALLOW_PRIVATE_URLS: '1', PROTOCOL_RATE_LIMIT: '0' }; // the bench drives one key far past the default 1000/s
  const secrets: Record<string, string> = {};
  let url: string;
  let call: NonNullable<Running['call']>;
  let contact: { conversation_id: string };
  try {
    if (options.database === 'postgres') {
      schema = await freshSchema('bench');
      databaseUrl = schema.url;
    }
    env.PROTOCOL_DATABASE_URL = databaseUrl;
    // SQLite: `serve` runs the worker (one writer process). PostgreSQL: 1 API + `workers` worker
    // processes (2 by default), or with `workers: 0` one `serve` with its own worker, as `npm start`.
    const serveWorks = options.database === 'sqlite' ? !options.apiOnly : options.workers === 0;
    const api = await startProcess(serveWorks ? ['serve'] : ['serve', '--no-worker'], env, bin);
    processes.push({ name: serveWorks || options.database === 'sqlite' ? 'protocol' : 'api', child: api.child });
    for (let i = 0; i < (options.database === 'postgres' ? (options.workers ?? 2) : 0); i++) {
      processes.push({ name: `worker${i + 1}`, child: (await startProcess(['worker'], env, bin)).child });
    }

    url = api.url;
    const pool = (client = new Pool(api.url, { connections: 32 }));
    call = async (method: string, route: string, body?: unknown, key = KEY) => {
      const response = await pool.request({ method: method as 'POST', path: `/v1${route}`, headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await response.body.json()) as any;
      if (response.statusCode >= 300) throw new Error(`${method} ${route}: ${response.statusCode} ${JSON.stringify(json)}`);
      return json;
    };
    contact = await call('POST', '/contacts', { username: 'bench', phone_number: '1' });
    for (let i = 0; i < options.webhooks; i++) {
      const webhook = await call('POST', '/webhooks', { name: `bench ${i}`, url: `${options.receiverUrl}/hook/${i}`, events: ['message.created'] });
      secrets[`/hook/${i}`] = webhook.secret;
    }
  } catch (error) {
    await teardown().catch(() => undefined); // the error that stopped the start is the one to report
    throw error;
  }
  return {
    pids: Object.fromEntries(processes.map(({ name, child }) => [name, child.pid!])),
    secrets,
    url,
    call,
    databasePids: schema?.serverPids,
    async addWorker() {
      const { child } = await startProcess(['worker'], env, bin);
      processes.push({ name: `worker${processes.length}`, child });
      return child.pid!;
    },
    async createAccount(name) {
      const child = spawn(process.execPath, [bin, 'accounts', 'create', '--name', name], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      await new Promise((resolve) => child.once('exit', resolve));
      return out.trim().split('\n').at(-1)!;
    },
    async produce(changes, produceOptions = {}) {
      const acks = new Map<string, number>();
      await pace(changes, produceOptions, async () => {
        const message = await call('POST', '/messages', { conversation_id: contact.conversation_id, message: 'I’m traveling with my dad. He’s at a meeting. I hate meetings.' });
        acks.set(message.id, now());
      });
      return acks;
    },
    stop: teardown,
  };
}

/** The bare-bones SQLite claim-and-send loop (sqlite-loop.ts) in a process of its own; a change is one IPC message and one transaction. */
export async function startSqliteLoop({ receiverUrl, webhooks }: SystemOptions): Promise<Running> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-loop-'));
  const secrets = hookSecrets(webhooks);
  const loop = await startHelper('./sqlite-loop.ts', { RECEIVER: receiverUrl, WEBHOOKS: String(webhooks), DATABASE: path.join(dataDir, 'loop.db') }, secrets);
  return {
    pids: { 'sqlite-loop': loop.pid! },
    secrets,
    produce: producerOverIpc(loop, 'sl'),
    async stop() {
      loop.send({ stop: true });
      await new Promise((resolve) => loop.once('exit', resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The bare-bones PostgreSQL claim-and-send loop (postgres-loop.ts) in a fresh schema: one producer
 * process (a change is one IPC message and one INSERT; it creates the table) and two workers, like
 * Protocol's 1 API + 2 workers.
 */
export async function startPostgresLoop({ receiverUrl, webhooks }: SystemOptions): Promise<Running> {
  const schema = await freshSchema('bench_bare'); // the producer creates its table
  const secrets = hookSecrets(webhooks);
  const env = { RECEIVER: receiverUrl, WEBHOOKS: String(webhooks), DATABASE_URL: schema.url };
  const helpers: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(helpers.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.send({ stop: true })))));
    await schema.drop();
  };
  try {
    helpers.push(await startHelper('./postgres-loop.ts', { ...env, ROLE: 'producer' }, secrets));
    for (let i = 0; i < 2; i++) helpers.push(await startHelper('./postgres-loop.ts', { ...env, ROLE: 'worker' }, secrets));
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const [producer, worker1, worker2] = helpers as [ChildProcess, ChildProcess, ChildProcess];
  return {
    pids: { producer: producer.pid!, worker1: worker1.pid!, worker2: worker2.pid! },
    secrets,
    databasePids: schema.serverPids,
    produce: producerOverIpc(producer, 'pl'),
    stop,
  };
}

/** The hand-built baseline: BullMQ on Redis, one job per delivery, a worker process signing and POSTing with undici at concurrency 100. */
export async function startBullmq({ receiverUrl, webhooks }: SystemOptions): Promise<Running> {
  const { Queue } = await import('bullmq');
  const { Redis: IORedis } = await import('ioredis');
  const queueName = `bench-${process.pid}-${Date.now()}`;
  const connection = new IORedis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  const secrets = hookSecrets(webhooks);
  const worker = await startHelper('./bullmq-worker.ts', { QUEUE: queueName, RECEIVER: receiverUrl }, secrets);
  return {
    pids: { 'bullmq-worker': worker.pid! },
    secrets,
    async produce(changes, options = {}) {
      const acks = new Map<string, number>();
      await pace(changes, { ...options, concurrency: options.concurrency ?? 16 }, async (change) => {
        const id = `bq${change}`;
        const body = eventBody(id);
        await queue.addBulk(
          Array.from({ length: webhooks }, (_, hook) => ({
            name: 'delivery',
            data: { path: `/hook/${hook}`, body, eventId: `evt_${id}` },
            opts: { attempts: 8, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: true, removeOnFail: 1000 },
          })),
        );
        acks.set(id, now());
      });
      return acks;
    },
    async stop() {
      worker.send({ stop: true });
      await new Promise((resolve) => worker.once('exit', resolve));
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      connection.disconnect();
    },
  };
}

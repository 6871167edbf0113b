import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import { installErrorHandler } from './api/error-handler.js';
import { probeRoutes } from './api/routes/probes.js';
import type { Config } from './config/config.js';
import type { Lookup } from './delivery/ssrf.js';
import { createFileStore } from './files/file-store.js';
import { createLogger } from './logging.js';
import { createMetrics } from './metrics/metrics.js';
import { createStore, migrate, openDatabase, type Store } from './store/index.js';
import { periodic } from './worker/periodic.js';
import { createPurger } from './worker/retention.js';
import { createWorker, type Worker } from './worker/worker.js';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: Store;
  worker?: Worker;
  logger: Logger;
  /** The key printed on a fresh database (only then is it known in plain text). */
  newAccountKey?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** `api` serves the API; `worker` delivers. `protocol serve` is both unless --no-worker. */
  roles: { api: boolean; worker: boolean };
  lookup?: Lookup;
  /** How long shutdown waits for attempts in flight. */
  graceMs?: number;
  /** When a worker looks for PostgreSQL tables due for analysis that autovacuum leaves alone (store/statistics.ts). */
  statistics?: { firstAfterMs: number; everyMs: number };
}

/**
 * Looks for tables due for analysis: as often as autovacuum does (`autovacuum_naptime`'s default),
 * but the first time soon after start. A connection settles on its plans within its first few
 * calls, and one made on a near-empty table reads more rows with every call until an analysis
 * replaces it. In the benchmark's saturated PostgreSQL runs (`bench:ab`, 6 rounds, without the
 * job against with it), looking every 10 s throughout cost ~2% (1.022 [0.996–1.042]): each look
 * analyzed the growing `deliveries` and `attempts`, ~90 ms each at 60,000 rows. This schedule
 * cost nothing measurable (1.004 [0.982–1.045]).
 */
const STATISTICS = { firstAfterMs: 10_000, everyMs: 60_000 };

/** The URL people can reach a listener at; a wildcard host is shown as loopback. */
function displayUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * Boots one process in its roles: the database (migrated), the store, the API and/or the
 * delivery worker, and the probes every process serves on PORT.
 */
export async function startServer(config: Readonly<Config>, options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const database = openDatabase(config.databaseUrl, { sqliteSync: config.sqliteSync, asyncCommit: options.roles.worker && !options.roles.api });
  await migrate(database);
  let publicUrl = config.publicUrl;
  const store = createStore(database, {
    fileUrl: (account, key) => `${publicUrl}/files/${account}/${key}`,
    attemptsPerDelivery: config.retryScheduleMs.length + 1,
  });
  const metrics = createMetrics(store);

  let newAccountKey: string | undefined;
  if (options.roles.api) {
    const { account, key } = await store.accounts.ensureDefault();
    newAccountKey = key;
    if (config.apiKey) await store.accounts.ensureKey(account.id, config.apiKey);
  }

  const app = options.roles.api
    ? await buildApp({ store, files: createFileStore(config.dataDir), logger, metrics, allowPrivateUrls: config.allowPrivateUrls, rateLimit: config.rateLimit, retentionMs: config.retentionMs, lookup: options.lookup })
    : Fastify({ loggerInstance: logger as FastifyBaseLogger });
  if (!options.roles.api) {
    installErrorHandler(app);
    probeRoutes(app, store, metrics);
  }

  let worker: Worker | undefined;
  let purger: ReturnType<typeof createPurger> | undefined;
  let statistics: ReturnType<typeof periodic> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let unsubscribe: (() => void) | undefined;
  if (options.roles.worker) {
    // A process that also serves the API sends from a second thread, so API + delivery use two
    // cores; dedicated worker processes scale by their number instead (with two of them on two
    // cores, a thread each only added contention: PostgreSQL throughput 1.8k → 1.6k/s).
    const started = createWorker({ store, logger, metrics, ...config, lookup: options.lookup, senderThread: options.roles.api });
    // This process's writes hand their new deliveries straight to it while it has room and
    // nothing older waits (store/hand-over.ts); it claims the rest. Wake-ups for those: this
    // process's commits at once; other processes' through LISTEN/NOTIFY; polling beneath both.
    store.handOverTo(started.handOver);
    unsubscribe = store.onCommit((committed) => committed.deliveries > committed.handedOver && started.wake());
    unlisten = await database.listenForDeliveries?.(started.wake);
    started.start();
    worker = started;
    purger = createPurger({ store, logger, retentionMs: config.retentionMs, onPurged: (byTable) => Object.entries(byTable).forEach(([table, n]) => n && metrics.purged.inc({ table }, n)) });
    purger.start();
    if (database.dialect === 'postgres') {
      statistics = periodic(
        async () => {
          const analyzed = await store.statistics.refresh();
          if (analyzed.length > 0) logger.info({ tables: analyzed }, 'analyzed tables that autovacuum leaves alone');
        },
        { ...(options.statistics ?? STATISTICS), onError: (error) => logger.warn({ err: error }, 'analyzing tables failed; retrying at the next interval') },
      );
      statistics.start();
    }
  }

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = displayUrl(config.host, port);
  publicUrl ||= url;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      store.handOverTo(undefined);
      unsubscribe?.();
      await unlisten?.();
      await purger?.stop();
      await statistics?.stop();
      await worker?.stop(options.graceMs ?? config.shutdownGraceMs);
      await store.close();
    })());
  return { url, app, store, worker, logger, newAccountKey, stop };
}

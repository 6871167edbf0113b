import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import type { Config } from './config/config.js';
import { createFileStore } from './files/file-store.js';
import { createLogger } from './logging.js';
import { createStore, migrate, openDatabase, type Store } from './store/index.js';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: Store;
  logger: Logger;
  /** The key printed on a fresh database (only then is it known in plain text). */
  newAccountKey?: string;
  stop(): Promise<void>;
}

/** The URL people can reach a listener at; a wildcard host is shown as loopback. */
function displayUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * Boots one process: database (migrated), store, default account, HTTP API. The delivery
 * worker joins here once the webhook engine exists.
 */
export async function startServer(config: Readonly<Config>, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const database = openDatabase(config.databaseUrl);
  await migrate(database);
  let publicUrl = config.publicUrl;
  const store = createStore(database, { fileUrl: (account, key) => `${publicUrl}/files/${account}/${key}` });

  let newAccountKey: string | undefined;
  let account = await store.accounts.findDefault();
  if (!account) {
    const created = await store.accounts.create('Default');
    account = created.account;
    newAccountKey = created.key;
  }
  if (config.apiKey) await store.accounts.ensureKey(account.id, config.apiKey);

  const app = await buildApp({ store, files: createFileStore(config.dataDir), logger });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = displayUrl(config.host, port);
  publicUrl ||= url;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      await store.close();
    })());
  return { url, app, store, logger, newAccountKey, stop };
}

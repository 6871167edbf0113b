import { Command, Option } from 'commander';
import { ConfigError, ENVIRONMENT, loadConfig, type Overrides } from '../config/config.js';
import { boundHeapGrowth } from './heap.js';
import { addRemoteCommands } from './remote-commands.js';

// The server and the store are imported only by the commands that use them, so the remote
// commands (events, webhooks, trigger, listen), which only call the API, start several times faster.

/**
 * `protocol`: one binary whose roles are commands. Flags override the environment; both are
 * read once, here, into the frozen config.
 */
function configFrom(options: { port?: string; host?: string; databaseUrl?: string }) {
  const overrides: Overrides = {};
  if (options.port !== undefined) overrides.port = Number(options.port);
  if (options.host !== undefined) overrides.host = options.host;
  if (options.databaseUrl !== undefined) overrides.databaseUrl = options.databaseUrl;
  return loadConfig(process.env, overrides);
}

/** The variables a server process reads, listed under its --help. */
const environmentHelp = () =>
  `\nEnvironment (flags win; an invalid value stops the start):\n${ENVIRONMENT.map(([name, fallback, meaning]) => `  ${name.padEnd(28)} ${meaning} (default: ${fallback})`).join('\n')}\n`;

const databaseOption = () => new Option('--database-url <url>', 'sqlite:<path> or postgres://… (env PROTOCOL_DATABASE_URL)');

async function run(options: { port?: string; host?: string; databaseUrl?: string }, roles: { api: boolean; worker: boolean }) {
  const config = configFrom(options);
  if (!roles.api) boundHeapGrowth(); // a dedicated worker: why there only, in heap.ts
  const { startServer } = await import('../server.js');
  const server = await startServer(config, { roles });
  const lines = roles.api
    ? [`Protocol is running at ${server.url}`, `Dashboard: ${server.url}/`, `API: ${server.url}/v1${roles.worker ? '' : ' (no delivery worker in this process)'}`]
    : [`Protocol worker is running at ${server.url} (health and metrics)`];
  if (server.newAccountKey) lines.push('Created the default account. Its API key (shown only now):', server.newAccountKey);
  process.stdout.write(`${lines.join('\n')}\n`);
  let signals = 0;
  const shutdown = (signal: string) => {
    if (signals++ > 0) process.exit(1);
    server.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

export function buildCli(): Command {
  const program = new Command('protocol').description('Protocol: a messaging API with signed, retried, logged webhooks').showHelpAfterError();

  program
    .command('serve', { isDefault: true })
    .description('run the API (and, unless --no-worker, the delivery worker) in one process')
    .option('--port <port>', 'port to listen on (env PORT, default 8080)')
    .option('--host <host>', 'address to listen on (env HOST, default 127.0.0.1)')
    .addOption(databaseOption())
    .option('--no-worker', 'serve the API only; deliveries are sent by `protocol worker` processes')
    .addHelpText('after', environmentHelp)
    .action((options) => run(options, { api: true, worker: options.worker }));

  program
    .command('worker')
    .description('deliver webhooks only (scale out on PostgreSQL); serves /healthz, /readyz and /metrics on PORT')
    .option('--port <port>', 'port for health and metrics (env PORT, default 8080)')
    .option('--host <host>', 'address to listen on (env HOST, default 127.0.0.1)')
    .addOption(databaseOption())
    .addHelpText('after', environmentHelp)
    .action((options) => run(options, { api: false, worker: true }));

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .addOption(databaseOption())
    .action(async (options) => {
      const { migrate, openDatabase } = await import('../store/index.js');
      const database = openDatabase(configFrom(options).databaseUrl);
      try {
        const applied = await migrate(database);
        process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'Database is up to date\n');
      } finally {
        await database.close();
      }
    });

  const accounts = program.command('accounts').description('manage accounts');
  accounts
    .command('create')
    .description("create an account; prints its API key as the last line")
    .requiredOption('--name <name>', 'the account name')
    .addOption(databaseOption())
    .action(async (options) => {
      const { createStore, migrate, openDatabase } = await import('../store/index.js');
      const database = openDatabase(configFrom(options).databaseUrl);
      try {
        await migrate(database);
        const store = createStore(database, { fileUrl: () => '', attemptsPerDelivery: 1 });
        const { account, key } = await store.accounts.create(options.name);
        process.stdout.write(`Created account ${account.id} (${account.name})\n${key}\n`);
      } finally {
        await database.close();
      }
    });
  addRemoteCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `protocol: ${(error as Error).message}`}\n`);
    process.exitCode = 1;
  }
}

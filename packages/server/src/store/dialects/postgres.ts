import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type DatabaseIntrospector, type TableMetadata } from 'kysely';
import type { Tables } from '../schema.js';
import { ARRAY_ROWS } from './array-rows.js';

/**
 * int8 columns (our `seq`s, ms timestamps, `count(*)`) come back from pg as strings by default.
 * Every value we keep in them is far below 2^53, so numbers are exact and the store code is the
 * same on both dialects.
 */
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/**
 * The channel that tells workers in other processes that deliveries were created: one per
 * schema, since NOTIFY is database-wide and two installations (or test runs) may share a
 * database in different schemas.
 */
export const DELIVERIES_CHANNEL = 'protocol_deliveries';

export function openPostgres(url: string, options: { max?: number; asyncCommit?: boolean } = {}): Kysely<Tables> {
  // Pipeline mode: a query goes out when it is asked for, not after the answer to the one before.
  // A transaction's statements that need nothing from each other's results are asked for together
  // (compiled.ts, bindConnection), so a change, a claim and a batch of results each wait on the
  // server fewer times than they have statements (pipelining.test.ts counts them).
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, pipeline: true });
  // A worker-only process writes leases and attempt results. Losing its last commits to a
  // database crash only means those deliveries are sent again once their leases expire, which
  // at-least-once delivery allows; so it need not wait for each commit's WAL flush. API
  // processes, which acknowledge changes, always commit durably.
  if (options.asyncCommit) pool.on('connect', (client) => void client.query('set synchronous_commit = off').catch(() => {}));
  // A lost connection (the server restarting, the backend terminated, the network) must not
  // crash the process. An idle client's error reaches the pool; a client lent out (to a
  // transaction, say) emits it itself, where no one listened: it was an uncaught exception, which
  // ended the process. Its queries fail with the error, their callers see it, and the pool drops
  // the client when it comes back; the next query connects anew.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Tables>({ dialect: new SchemaPostgresDialect({ pool: preparing(pool) }) });
}

/**
 * Kysely's introspection (which its migrator uses to find its own tables) reads every schema of
 * the database and checks each one's privileges by name: a schema dropped meanwhile (another
 * installation's, another test file's) made it fail with "schema … does not exist". Only the
 * connection's own schema holds our tables, so only it is read.
 */
class SchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    const getTables = async (): Promise<TableMetadata[]> => {
      const { rows } = await sql<{ name: string; schema: string; view: boolean }>`
        select c.relname as name, n.nspname as schema, c.relkind = 'v' as view
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 'v', 'p')`.execute(db);
      return rows.map((row) => ({ name: row.name, schema: row.schema, isView: row.view, columns: [] }));
    };
    return {
      getSchemas: async () => (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows,
      getTables,
      getMetadata: async () => ({ tables: await getTables() }),
    };
  }
}

/** Statements a connection keeps prepared; beyond this (IN lists of many lengths) queries go unnamed. */
const PREPARED_PER_CONNECTION = 500;

/**
 * Kysely sends every query unnamed, so PostgreSQL parses and plans it on every call; that was
 * most of the database's CPU per API call. This pool hands Kysely clients that name each
 * parameterized statement by its text: pg prepares it once per connection and then only binds.
 *
 * Statements marked ARRAY_ROWS (array-rows.ts), with parameters or without, get their rows as arrays.
 *
 * Their sockets are also corked for the rest of the turn in which a query is asked for, so the
 * statements a transaction asks for together leave in one write: one packet, one wake-up of the
 * server's process, and "together" holds on the wire. (pg corks each query's own messages only.)
 */
function preparing(pool: pg.Pool): pg.Pool {
  const names = new WeakMap<pg.PoolClient, Set<string>>();
  const nameOf = (text: string) => `p${createHash('sha1').update(text).digest('base64url').slice(0, 16)}`;
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'connect') return Reflect.get(target, property, receiver);
      return async () => {
        const client = await target.connect();
        if (!names.has(client)) {
          const prepared = new Set<string>();
          names.set(client, prepared);
          const query = client.query.bind(client) as (...args: unknown[]) => unknown;
          const stream = (client as unknown as { connection: { stream: Socket } }).connection.stream;
          let corked = false;
          client.query = ((text: unknown, values?: unknown[]) => {
            if (!corked) {
              corked = true;
              stream.cork();
              process.nextTick(() => {
                corked = false;
                stream.uncork();
              });
            }
            if (typeof text !== 'string') return query(text, values);
            const rowMode = text.startsWith(ARRAY_ROWS) ? ('array' as const) : undefined;
            // Without parameters: sent as it is (simple protocol, which several statements may share), unnamed.
            if (!values?.length) return rowMode ? query({ text, rowMode }) : query(text, values);
            const name = nameOf(text);
            if (!prepared.has(name)) {
              if (prepared.size >= PREPARED_PER_CONNECTION) return query({ text, values, rowMode });
              prepared.add(name);
            }
            return query({ name, text, values, rowMode });
          }) as typeof client.query;
        }
        return client;
      };
    },
  });
}

/** The longest a notification waits for a connection, or for its answer. */
export const NOTIFY_TIMEOUT_MS = 5_000;

/**
 * Wakes workers in other processes after a commit that queued deliveries: one NOTIFY, from a
 * connection of its own, after the commit.
 *
 * Not inside the writing transaction (migration 007's trigger did that until 009): PostgreSQL
 * serializes the commits of notifying transactions, WAL flush included, on one lock. Under load
 * the API's transactions queued there: "commit, waiting on Lock:object" was the most frequent
 * state of their backends (~60 of ~250 samples; none after). Throughput rose ~10% in one
 * comparison and stayed within the machine's noise in another. Not through the pool either,
 * where it waited behind API requests for a connection.
 *
 * Commits that come while a NOTIFY is on its way share the next one, which is sent after they
 * committed; so every commit is followed by a notification, at one round trip's delay. A lost
 * notification costs a worker's poll interval at most: polling stays the source of truth.
 */
export function deliveryNotifier(url: string): { notify(): void; close(): Promise<void> } {
  let client: pg.Client | undefined;
  let sending: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const drop = () => {
    client?.end().catch(() => {});
    client = undefined;
  };
  const connected = async () => {
    if (closed) throw new Error('the notifier is closed');
    if (client) return client;
    // Bounded, as close() waits for a notification on its way: a database host that does not
    // answer at all would otherwise hold shutdown for as long as TCP keeps trying.
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: NOTIFY_TIMEOUT_MS, query_timeout: NOTIFY_TIMEOUT_MS });
    next.on('error', () => {
      if (client === next) drop(); // the next notification reconnects
    });
    await next.connect();
    // Closed while connecting: close() waits for this send, so the connection must not outlive it
    // (left open, it kept the process alive after everything else had stopped).
    if (closed) {
      await next.end().catch(() => {});
      throw new Error('the notifier is closed');
    }
    return (client = next);
  };
  const notifyOnce = async () => void (await (await connected()).query(`select pg_notify('${DELIVERIES_CHANNEL}' || '.' || current_schema(), '')`));
  const send = async () => {
    again = false;
    try {
      // A connection gone stale (the server restarted, the backend was terminated) fails once; a
      // fresh one is tried at once. If that fails too, the database is down: the next commit tries again.
      await notifyOnce().catch(async () => {
        drop();
        await notifyOnce();
      });
    } catch {
      drop();
    }
  };
  /** Sends, then once more if commits came meanwhile; `sending` is the whole run, which close() waits for. */
  const run = async () => {
    do await send();
    while (again && !closed);
    sending = undefined;
  };
  return {
    notify() {
      if (closed) return;
      if (sending) again = true;
      else sending = run();
    },
    async close() {
      closed = true;
      await sending;
      const last = client;
      client = undefined;
      await last?.end().catch(() => {});
    },
  };
}

/**
 * LISTEN on a dedicated connection. Notifications are only a hint that work is waiting: the
 * worker's polling stays the source of truth, so a lost connection is simply re-opened.
 */
export async function listenForDeliveries(url: string, onNotify: () => void): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', onNotify);
    next.on('error', () => {
      next.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void connect().catch(() => {}), 1000);
    });
    await next.connect();
    const { rows } = await next.query<{ schema: string }>('select current_schema() as schema');
    await next.query(`LISTEN ${next.escapeIdentifier(`${DELIVERIES_CHANNEL}.${rows[0]!.schema}`)}`);
    client = next;
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}

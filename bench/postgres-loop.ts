// The bare-bones PostgreSQL claim-and-send loop: what PostgreSQL itself allows on this machine,
// the anchor for Protocol's PostgreSQL target as sqlite-loop.ts is for SQLite's. No API, no
// attempt log, no per-webhook limits, no retry policy. Run as one producer process and two
// workers, like Protocol's 1 API + 2 workers:
// - ROLE=producer: creates the table; a change (an IPC message) is one INSERT of one row per webhook, committed on
//   its own; a NOTIFY follows the commit from a connection of its own (coalesced while one is on
//   its way), as Protocol's does, so notifying does not serialize the commits.
// - ROLE=worker: one loop marks what finished done, then leases due rows with one
//   UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING (the lease moves `due_at`, as
//   Protocol's does), and signs and POSTs them with undici, 128 in flight. It sleeps until a
//   NOTIFY, an ending send, or a second has passed (leases that ran out: failed sends).
import pg from 'pg';
import { Pool } from 'undici';
import { eventBody } from './systems.js';
import { now } from './measure.js';
import { postSigned } from './bare-send.js';

const IN_FLIGHT = 128; // Protocol's sending room
const CLAIM = 64; // Protocol's claim size
const LEASE_MS = 30_000;
const CHANNEL = 'bare_loop';

const connection = { connectionString: process.env.DATABASE_URL! };
const webhooks = Number(process.env.WEBHOOKS);

const SCHEMA = `create table deliveries (seq bigserial primary key, path text not null, event_id text not null, body text not null, due_at bigint not null, done boolean not null default false);
  create index deliveries_due on deliveries (due_at) where not done;`;

let secrets: Record<string, string> = {};
const stops: Array<() => Promise<void>> = [];
process.on('message', async (message: { secrets?: Record<string, string>; change?: string; stop?: boolean }) => {
  if (message.secrets) secrets = message.secrets;
  if (message.change) await addChange(message.change);
  if (message.stop) {
    for (const stop of stops) await stop();
    process.exit(0);
  }
});

// --- the producer --------------------------------------------------------------------------------
let addChange: (id: string) => Promise<void> = async () => undefined;
if (process.env.ROLE === 'producer') {
  const pool = new pg.Pool({ ...connection, max: 16 });
  const notifier = new pg.Client(connection);
  await notifier.connect();
  await notifier.query(SCHEMA); // in the fresh schema the bench made; the workers start after this process is ready
  let notifying = false;
  let again = false;
  const notify = async () => {
    if (notifying) return void (again = true);
    notifying = true;
    do {
      again = false;
      await notifier.query(`notify ${CHANNEL}`);
    } while (again);
    notifying = false;
  };
  addChange = async (id) => {
    await pool.query('insert into deliveries (path, event_id, body, due_at) select \'/hook/\' || hook, $1, $2, $3 from generate_series(0, $4 - 1) as hook', [
      `evt_${id}`,
      eventBody(id),
      Date.now(),
      webhooks,
    ]);
    process.send!({ acked: id, at: now() });
    void notify();
  };
  stops.push(async () => {
    await pool.end();
    await notifier.end();
  });
}

// --- a worker ------------------------------------------------------------------------------------
if (process.env.ROLE === 'worker') {
  const http = new Pool(process.env.RECEIVER!, { connections: IN_FLIGHT });
  const db = new pg.Client(connection);
  await db.connect();
  const listener = new pg.Client(connection);
  await listener.connect();
  await listener.query(`listen ${CHANNEL}`);

  let inFlight = 0;
  let finished: string[] = [];
  let running = true;
  // A wake-up (NOTIFY, a send that ended) while the loop was busy is not lost: the next sleep returns at once.
  let woken = false;
  let wakeUp = () => {};
  const wake = () => {
    woken = true;
    wakeUp();
  };
  listener.on('notification', wake);
  const sleep = (ms: number) =>
    woken
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wakeUp = () => (clearTimeout(timer), resolve()); // resolving twice is harmless
        });

  const send = (row: { seq: string; path: string; event_id: string; body: string }) => {
    inFlight++;
    void postSigned(http, row, secrets[row.path]!).then((ok) => {
      if (ok) finished.push(row.seq);
      inFlight--;
      wake();
    });
  };

  const loop = (async () => {
    while (running) {
      woken = false;
      const done = finished;
      finished = [];
      if (done.length > 0) await db.query('update deliveries set done = true where seq = any($1::bigint[])', [done]);
      const room = Math.min(CLAIM, IN_FLIGHT - inFlight);
      let leased = 0;
      if (room > 0) {
        const { rows } = await db.query(
          'update deliveries set due_at = $1 from (select seq from deliveries where not done and due_at <= $2 order by due_at limit $3 for update skip locked) as due where deliveries.seq = due.seq returning deliveries.seq, path, event_id, body',
          [Date.now() + LEASE_MS, Date.now(), room],
        );
        rows.forEach(send);
        leased = rows.length;
      }
      if (leased < room || room === 0) await sleep(1000);
    }
  })();

  stops.push(async () => {
    running = false;
    wake();
    await loop;
    await http.close();
    await db.end();
    await listener.end();
  });
}
process.send!('ready');

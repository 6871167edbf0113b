// The bare-bones SQLite claim-and-send loop (the anchor for what a durable SQLite queue
// can do on this machine): no API, no attempt log, no per-webhook limits, no retry policy. A
// change is one transaction inserting one row per webhook; the loop leases due rows with one
// UPDATE … RETURNING (the lease moves `due_at`, as Protocol's does), signs and POSTs them with
// undici, and marks the finished ones done: one transaction per turn of the event loop. What
// Protocol adds on top of this is the price of being a product.
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { eventBody } from './systems.js';
import { now } from './measure.js';
import { postSigned } from './bare-send.js';

const IN_FLIGHT = 128; // Protocol's sending room
const CLAIM = 64; // Protocol's claim size
const LEASE_MS = 30_000;

const file = process.env.DATABASE!;
const webhooks = Number(process.env.WEBHOOKS);
const pool = new Pool(process.env.RECEIVER!, { connections: IN_FLIGHT });
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`create table deliveries (seq integer primary key, path text not null, event_id text not null, body text not null, due_at integer not null, done integer not null default 0);
  create index deliveries_due on deliveries (due_at) where done = 0;`);

const insert = db.prepare('insert into deliveries (path, event_id, body, due_at) values (?, ?, ?, ?)');
const addChange = db.transaction((id: string) => {
  const body = eventBody(id);
  for (let hook = 0; hook < webhooks; hook++) insert.run(`/hook/${hook}`, `evt_${id}`, body, Date.now());
});
const lease = db.prepare<[number, number, number], { seq: number; path: string; event_id: string; body: string }>(
  // UPDATE … FROM, not `where seq in (select … order by due_at limit ?)`: with SQLite's default
  // temp_store the IN list goes to a temporary b-tree, ~190 µs per statement even when nothing
  // was due (SQLite 3.53); this form ~11 µs.
  'update deliveries set due_at = ? from (select seq from deliveries where done = 0 and due_at <= ? order by due_at limit ?) as due where deliveries.seq = due.seq returning deliveries.seq, path, event_id, body',
);
const markDone = db.prepare<[string]>('update deliveries set done = 1 where seq in (select value from json_each(?))');

let secrets: Record<string, string> = {};
let inFlight = 0;
let finished: number[] = [];
let scheduled = false;

/** Once per turn of the event loop: one transaction marks what finished and leases what there is room for. */
function soon() {
  if (scheduled) return;
  scheduled = true;
  setImmediate(turn);
}

const turn = db.transaction(() => {
  scheduled = false;
  if (finished.length > 0) markDone.run(JSON.stringify(finished));
  finished = [];
  if (inFlight >= IN_FLIGHT) return;
  for (const row of lease.all(Date.now() + LEASE_MS, Date.now(), Math.min(CLAIM, IN_FLIGHT - inFlight))) send(row);
});

function send(row: { seq: number; path: string; event_id: string; body: string }) {
  inFlight++;
  void postSigned(pool, row, secrets[row.path]!).then((ok) => {
    if (ok) finished.push(row.seq);
    inFlight--;
    soon();
  });
}

process.on('message', async (message: { secrets?: Record<string, string>; change?: string; stop?: boolean }) => {
  if (message.secrets) secrets = message.secrets;
  if (message.change) {
    addChange(message.change);
    process.send!({ acked: message.change, at: now() });
    soon();
  }
  if (message.stop) {
    await pool.close();
    db.close();
    process.exit(0);
  }
});
setInterval(soon, 1000); // leases that ran out (failed sends)
process.send!('ready');

// The BullMQ baseline's worker: what a team would hand-build. Signs like Protocol and POSTs
// with undici at concurrency 100.
import { Worker } from 'bullmq';
import { Redis as IORedis } from 'ioredis';
import { Pool } from 'undici';
import { signWebhook } from '@protocol/sdk';

const connection = new IORedis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });
const pool = new Pool(process.env.RECEIVER!, { connections: 100 });
let secrets: Record<string, string> = {};

const worker = new Worker(
  process.env.QUEUE!,
  async (job) => {
    const { path, body, eventId } = job.data as { path: string; body: string; eventId: string };
    const headers = signWebhook({ id: eventId, timestamp: Math.floor(Date.now() / 1000), body, secrets: [secrets[path]!] });
    const response = await pool.request({ path, method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'x-protocol-attempt': String(job.attemptsMade + 1) }, body, headersTimeout: 15_000, bodyTimeout: 15_000 });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}`);
  },
  { connection, concurrency: 100 },
);

process.on('message', async (message: { secrets?: Record<string, string>; stop?: boolean }) => {
  if (message.secrets) secrets = message.secrets;
  if (message.stop) {
    await worker.close();
    await pool.close();
    connection.disconnect();
    process.exit(0);
  }
});
worker.waitUntilReady().then(() => process.send!('ready'));

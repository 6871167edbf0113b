// What both bare loops (sqlite-loop.ts, postgres-loop.ts) do with a leased row: sign it as
// Protocol does and POST it with undici.
import type { Pool } from 'undici';
import { signWebhook } from '@protocol/sdk';

/** Whether the receiver answered 2xx; never rejects (a failure stays leased and falls due again when the lease runs out). */
export async function postSigned(pool: Pool, row: { path: string; event_id: string; body: string }, secret: string): Promise<boolean> {
  const headers = signWebhook({ id: row.event_id, timestamp: Math.floor(Date.now() / 1000), body: row.body, secrets: [secret] });
  try {
    const response = await pool.request({ path: row.path, method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: row.body, headersTimeout: 15_000, bodyTimeout: 15_000 });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 300;
  } catch {
    return false;
  }
}

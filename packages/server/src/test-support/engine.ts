import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/config.js';
import type { Lookup } from '../delivery/ssrf.js';
import { createLogger } from '../logging.js';
import { startServer, type RunningServer, type StartOptions } from '../server.js';
import { sqliteDatabase, type TestDatabase } from './databases.js';

export interface Engine {
  server: RunningServer;
  url: string;
  key: string;
  /** Calls the API as the default account; JSON in, parsed JSON out. */
  api<T = any>(method: string, route: string, body?: unknown, key?: string): Promise<{ status: number; body: T }>;
  /** Polls a delivery until `until` holds (or fails after `timeoutMs`). */
  waitForDelivery(id: string, until: (delivery: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

/** The whole product in this process (API + worker) on a fresh database, with env overrides. */
export async function startEngine(env: Record<string, string> = {}, options: { target?: TestDatabase; lookup?: Lookup; statistics?: StartOptions['statistics'] } = {}): Promise<Engine> {
  const target = options.target ?? (await sqliteDatabase());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-engine-'));
  const config = loadConfig({ PROTOCOL_ALLOW_PRIVATE_URLS: '1', PROTOCOL_DATA_DIR: dataDir, PROTOCOL_DATABASE_URL: target.url, PORT: '0', ...env });
  const server = await startServer(config, { roles: { api: true, worker: true }, logger: createLogger('silent'), lookup: options.lookup, graceMs: 2000, statistics: options.statistics });
  const key = server.newAccountKey!;
  const api = async (method: string, route: string, body?: unknown, asKey = key) => {
    const response = await fetch(`${server.url}/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${asKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    server,
    url: server.url,
    key,
    api,
    async waitForDelivery(id, until, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await api('GET', `/deliveries/${id}`);
        if (until(body)) return body;
        if (Date.now() > deadline) throw new Error(`delivery ${id} did not reach the expected state: ${JSON.stringify(body)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await server.stop();
      await target.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

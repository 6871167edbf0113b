import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from '../api/app.js';
import { createFileStore } from '../files/file-store.js';
import { createLogger } from '../logging.js';
import { createMetrics } from '../metrics/metrics.js';
import { createStore, type Store } from '../store/index.js';
import { sqliteDatabase, type TestDatabase } from './databases.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  /** A JSON body (objects) or a raw string body with `contentType`. */
  json?: unknown;
  /** A form-encoded body, written exactly as given (`a[b][]=c&…`), like `curl -d`. */
  form?: string;
  body?: string | Buffer | FormData;
  contentType?: string;
  /** Overrides the default account's key; `null` sends no Authorization header. */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface ApiFixture {
  url: string;
  app: FastifyInstance;
  store: Store;
  account: string;
  key: string;
  dataDir: string;
  /** Every route the app registered, as `METHOD /path`. */
  routes: string[];
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  close(): Promise<void>;
  /** Removes the database and the files directory (for a test that closed the app and store itself). */
  drop(): Promise<void>;
}

/** The real app on a real loopback socket, over a fresh SQLite file, with one account. */
export async function openApi(target?: TestDatabase, options: { logger?: Logger; rateLimit?: number; retentionMs?: number } = {}): Promise<ApiFixture> {
  const db = target ?? (await sqliteDatabase());
  const database = await db.open();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-files-'));
  const drop = async () => {
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let url = '';
  const routes: string[] = [];
  const store = createStore(database, { fileUrl: (account, key) => `${url}/files/${account}/${key}`, attemptsPerDelivery: 4 });
  const {
    account: { id: account },
    key,
  } = await store.accounts.create('Test');
  const app = await buildApp({
    store,
    files: createFileStore(dataDir),
    logger: options.logger ?? createLogger('silent'),
    metrics: createMetrics(store),
    allowPrivateUrls: true,
    rateLimit: options.rateLimit ?? 0,
    onRoute: (route) => [route.method].flat().forEach((method) => routes.push(`${method} ${route.url}`)),
    retentionMs: options.retentionMs ?? 30 * 86_400_000,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  async function request(method: string, route: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    const auth = options.key === undefined ? key : options.key;
    if (auth !== null) headers.authorization ??= `Bearer ${auth}`;
    let body: string | Buffer | FormData | undefined = options.body;
    if (options.json !== undefined) {
      body = typeof options.json === 'string' ? options.json : JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    if (options.form !== undefined) {
      body = options.form;
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    if (options.contentType) headers['content-type'] = options.contentType;
    const response = await fetch(`${url}${route}`, { method, headers, body: Buffer.isBuffer(body) ? new Uint8Array(body) : body });
    const text = await response.text();
    let parsed: unknown = text;
    if (response.headers.get('content-type')?.includes('json') && text) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed };
  }

  return {
    url,
    app,
    store,
    account,
    key,
    dataDir,
    routes,
    request,
    async close() {
      await app.close();
      await store.close();
      await drop();
    },
    drop,
  };
}

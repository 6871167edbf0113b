import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pg from 'pg';
import { newId } from '../store/ids.js';
import { migrate, openDatabase, type Database } from '../store/index.js';

/**
 * The databases every store test runs against: a real SQLite file and a real PostgreSQL
 * schema, fresh for each test file. PostgreSQL is required when CI is set (or
 * PROTOCOL_REQUIRE_POSTGRES=1): then an unreachable server fails the run instead of skipping.
 */
export const POSTGRES_URL = process.env.PROTOCOL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const requirePostgres = Boolean(process.env.CI) || process.env.PROTOCOL_REQUIRE_POSTGRES === '1';

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  /** A URL for a fresh, empty database (file or schema), for processes started by the test. */
  url: string;
  /** Opens it, migrated (`poolSize: 1`: one connection, for tests that count what the server does). */
  open(options?: { poolSize?: number }): Promise<Database>;
  drop(): Promise<void>;
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    if (requirePostgres) throw new Error(`PostgreSQL at ${POSTGRES_URL} is required (CI) but unreachable: ${(error as Error).message}`);
    return false;
  }
}

async function openMigrated(url: string, options: { poolSize?: number } = {}): Promise<Database> {
  const database = openDatabase(url, options);
  await migrate(database);
  return database;
}

/** One statement as the database's owner (schemas and databases are made and dropped this way); its rows. */
export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(statement: string, url = POSTGRES_URL): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(statement)).rows;
  } finally {
    await client.end();
  }
}

export async function sqliteDatabase(): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-test-'));
  const url = `sqlite:${path.join(dir, 'protocol.db')}`;
  return {
    name: 'sqlite',
    url,
    open: (options) => openMigrated(url, options),
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export async function postgresDatabase(): Promise<TestDatabase | undefined> {
  if (!(await postgresReachable())) return undefined;
  const schema = `t_${newId().toLowerCase()}`;
  await adminQuery(`create schema ${schema}`);
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    name: 'postgres',
    url,
    open: (options) => openMigrated(url, options),
    drop: async () => void (await adminQuery(`drop schema if exists ${schema} cascade`)),
  };
}

/** Both databases (PostgreSQL left out, loudly, only when it is unreachable outside CI). */
export async function testDatabases(): Promise<TestDatabase[]> {
  const postgres = await postgresDatabase();
  if (!postgres) console.warn(`# PostgreSQL at ${POSTGRES_URL} is unreachable: its suites are SKIPPED (set CI=1 to make this fail)`);
  return [await sqliteDatabase(), ...(postgres ? [postgres] : [])];
}

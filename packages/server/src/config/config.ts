import path from 'node:path';
import { parseDuration, parseDurationList } from './duration.js';

/**
 * The whole configuration, read once at start-up from the environment (and CLI flags, which
 * win), validated with every problem reported together, then frozen and passed down.
 * Nothing reads `process.env` anywhere else.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_LEVELS_TEXT = LOG_LEVELS.join(', ');

export interface Config {
  port: number;
  host: string;
  /** `sqlite:<path>` or `postgres://…` */
  databaseUrl: string;
  /** When set, an API key with exactly this value exists for the default account. */
  apiKey: string | undefined;
  /** Delays before each retry; the first attempt is immediate. */
  retryScheduleMs: readonly number[];
  deliveryTimeoutMs: number;
  allowPrivateUrls: boolean;
  disableAfterMs: number;
  dataDir: string;
  /** API requests per second per key; 0 turns the limit off. */
  rateLimit: number;
  retentionMs: number;
  /** The origin that `file_url`s and printed links use. */
  publicUrl: string;
  logLevel: string;
  /** How long SIGTERM waits for attempts in flight before releasing them. */
  shutdownGraceMs: number;
  /** SQLite durability: NORMAL survives a killed process, FULL also a power cut. */
  sqliteSync: 'NORMAL' | 'FULL';
}

/**
 * Every variable the server reads, for `protocol serve --help` and the README's table (a test
 * keeps all three in step with what loadConfig reads).
 */
export const ENVIRONMENT: ReadonlyArray<readonly [name: string, fallback: string, meaning: string]> = [
  ['PORT', '8080', 'port to listen on'],
  ['HOST', '127.0.0.1', 'address to listen on'],
  ['PROTOCOL_DATABASE_URL', 'sqlite:./data/protocol.db', 'sqlite:<path> or postgres://…'],
  ['PROTOCOL_API_KEY', 'none', 'an API key that must exist for the default account'],
  ['PROTOCOL_RETRY_SCHEDULE', '5s,5m,30m,2h,5h,10h,10h', 'delays before each retry'],
  ['PROTOCOL_DELIVERY_TIMEOUT', '15s', 'per-attempt timeout'],
  ['PROTOCOL_ALLOW_PRIVATE_URLS', 'off', '1 allows loopback/private webhook URLs'],
  ['PROTOCOL_DISABLE_AFTER', '5d', 'disable a webhook failing for this long'],
  ['PROTOCOL_DATA_DIR', './data', 'attachments and the default SQLite file'],
  ['PROTOCOL_RATE_LIMIT', '1000', 'requests per second per API key (0 = off)'],
  ['PROTOCOL_RETENTION', '30d', 'purge events, deliveries and attempts older than this'],
  ['PROTOCOL_PUBLIC_URL', 'the listening address', 'origin used in file_urls'],
  ['PROTOCOL_SQLITE_SYNC', 'NORMAL', 'NORMAL or FULL (survives a power cut)'],
  ['PROTOCOL_SHUTDOWN_GRACE', '10s', 'how long SIGTERM waits for attempts in flight'],
  ['PROTOCOL_LOG_LEVEL', 'info', LOG_LEVELS_TEXT],
];

export type Overrides = Partial<Pick<Config, 'port' | 'host' | 'databaseUrl'>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}


export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Overrides = {}): Readonly<Config> {
  const problems: string[] = [];
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T | undefined, accepts: string): T => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = parse(raw);
    if (value === undefined) {
      problems.push(`${name}=${JSON.stringify(raw)} is invalid: expected ${accepts}`);
      return fallback;
    }
    return value;
  };
  const integer = (min: number, max: number) => (raw: string) => {
    const n = Number(raw);
    return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  };
  const duration = (raw: string) => {
    const ms = parseDuration(raw);
    return ms !== undefined && ms > 0 ? ms : undefined;
  };
  const flag = (raw: string) => (['1', 'true', 'yes', 'on'].includes(raw) ? true : ['0', 'false', 'no', 'off'].includes(raw) ? false : undefined);

  const port = overrides.port ?? read('PORT', 8080, integer(0, 65535), 'a port number 0-65535');
  const host = overrides.host ?? read('HOST', '127.0.0.1', (raw) => raw, 'a host name or address');
  const dataDir = path.resolve(read('PROTOCOL_DATA_DIR', './data', (raw) => raw, 'a directory path'));
  const databaseUrl =
    overrides.databaseUrl ??
    read('PROTOCOL_DATABASE_URL', `sqlite:${path.join(dataDir, 'protocol.db')}`, (raw) => (/^(sqlite:|postgres(ql)?:\/\/)/.test(raw) ? raw : undefined), 'sqlite:<path> or postgres://…');
  if (overrides.databaseUrl && !/^(sqlite:|postgres(ql)?:\/\/)/.test(overrides.databaseUrl)) {
    problems.push(`--database-url is invalid: expected sqlite:<path> or postgres://…`);
  }
  const apiKey = read<string | undefined>('PROTOCOL_API_KEY', undefined, (raw) => (raw.length >= 16 && !/\s/.test(raw) ? raw : undefined), 'at least 16 characters without spaces');
  const retryScheduleMs = read('PROTOCOL_RETRY_SCHEDULE', parseDurationList('5s,5m,30m,2h,5h,10h,10h')!, parseDurationList, 'comma-separated durations such as 5s,5m,30m (units ms, s, m, h, d)');
  const deliveryTimeoutMs = read('PROTOCOL_DELIVERY_TIMEOUT', 15_000, duration, 'a positive duration such as 15s');
  const allowPrivateUrls = read('PROTOCOL_ALLOW_PRIVATE_URLS', false, flag, '1 or 0');
  const disableAfterMs = read('PROTOCOL_DISABLE_AFTER', 5 * 86_400_000, duration, 'a positive duration such as 5d');
  const rateLimit = read('PROTOCOL_RATE_LIMIT', 1000, integer(0, 1_000_000), 'a whole number of requests per second (0 = off)');
  const retentionMs = read('PROTOCOL_RETENTION', 30 * 86_400_000, duration, 'a positive duration such as 30d');
  const logLevel = read('PROTOCOL_LOG_LEVEL', 'info', (raw) => (LOG_LEVELS.includes(raw) ? raw : undefined), LOG_LEVELS_TEXT);
  const sqliteSync = read<'NORMAL' | 'FULL'>('PROTOCOL_SQLITE_SYNC', 'NORMAL', (raw) => (raw.toUpperCase() === 'FULL' ? 'FULL' : raw.toUpperCase() === 'NORMAL' ? 'NORMAL' : undefined), 'NORMAL or FULL');
  const shutdownGraceMs = read('PROTOCOL_SHUTDOWN_GRACE', 10_000, duration, 'a positive duration such as 10s');
  const publicUrl = read('PROTOCOL_PUBLIC_URL', '', (raw) => (/^https?:\/\/[^/]+$/.test(raw.replace(/\/$/, '')) ? raw.replace(/\/$/, '') : undefined), 'an origin such as https://protocol.example.com');

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    port,
    host,
    databaseUrl,
    apiKey,
    retryScheduleMs: Object.freeze(retryScheduleMs),
    deliveryTimeoutMs,
    allowPrivateUrls,
    disableAfterMs,
    dataDir,
    rateLimit,
    retentionMs,
    publicUrl,
    logLevel,
    shutdownGraceMs,
    sqliteSync,
  });
}

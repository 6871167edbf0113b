import { ApiClient, ProtocolError } from '@protocol/sdk';

/**
 * The commands that talk to a running server (listen, trigger, webhooks, events) find it at
 * PROTOCOL_URL and authenticate with PROTOCOL_API_KEY, read once when the command starts.
 */
export interface Remote {
  url: string;
  client: ApiClient;
}

export class CliError extends Error {}

export function remoteFromEnv(env: NodeJS.ProcessEnv = process.env): Remote {
  const url = (env.PROTOCOL_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const key = env.PROTOCOL_API_KEY;
  if (!key) throw new CliError('Set PROTOCOL_API_KEY to an API key of the server at PROTOCOL_URL (npm start prints one on a fresh database).');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new CliError(`PROTOCOL_URL=${JSON.stringify(url)} is invalid: expected an http(s) URL such as http://127.0.0.1:8080`);
  return { url, client: new ApiClient(key, { baseUrl: `${url}/v1`, maxRetries: 0, timeoutMs: 15_000 }) };
}

/** Turns API failures into one readable sentence for the terminal. */
export function explain(error: unknown, remote?: Remote): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof ProtocolError) {
    if (error.status === 0) return `${error.message}. Is the server running, and is PROTOCOL_URL${remote ? ` (${remote.url})` : ''} right?`;
    if (error.status === 401) return `The API key was refused (PROTOCOL_API_KEY): ${error.message}`;
    return `${error.message}${error.param ? ` (${error.param})` : ''} [HTTP ${error.status}]`;
  }
  return (error as Error)?.message ?? String(error);
}

/** Column-aligned rows for people; `--json` prints the objects instead. */
export function printTable(headers: string[], rows: string[][]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function isoTime(seconds: number | null): string {
  return seconds === null ? '-' : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

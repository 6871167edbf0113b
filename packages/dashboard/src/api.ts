import { ApiClient, ProtocolError } from '@protocol/sdk/browser';

/**
 * The dashboard uses only the public /v1 API, through the SDK. It holds no key: after sign-in
 * the browser carries an httpOnly session cookie that scripts cannot read.
 */
export const api = new ApiClient(null, { baseUrl: '/v1', maxRetries: 1 });

/** Sign-in, sign-out and "who am I" are the calls only a browser session needs. */
async function sessionCall(method: 'POST' | 'DELETE', body?: object): Promise<void> {
  const response = await fetch('/v1/session', {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  });
  if (!response.ok) throw new ProtocolError(response.status, await response.json().catch(() => ({})));
}

export const signIn = (apiKey: string) => sessionCall('POST', { api_key: apiKey });
export const signOut = () => sessionCall('DELETE');

export interface Session {
  account: { id: string; name: string; created_at: number };
}
export const getSession = () => fetch('/v1/session', { credentials: 'same-origin' }).then(async (r) => {
  if (!r.ok) throw new ProtocolError(r.status, await r.json().catch(() => ({})));
  return (await r.json()) as Session;
});

/** The message to show for a failed call, and the field it concerns. */
export function describeError(error: unknown): { message: string; param?: string } {
  if (error instanceof ProtocolError) return { message: error.message, param: error.param };
  return { message: (error as Error)?.message ?? 'Something went wrong' };
}

export function formatTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** 2592000 → "30 days"; whole units only, largest first. */
export function formatDuration(seconds: number): string {
  const units: Array<[string, number]> = [['day', 86_400], ['hour', 3600], ['minute', 60], ['second', 1]];
  for (const [name, size] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}

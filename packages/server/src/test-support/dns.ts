import type dns from 'node:dns';
import type { Lookup } from '../delivery/ssrf.js';

/**
 * A resolver from a table, so tests never touch real DNS. A function value answers per call,
 * which is how a test plays DNS rebinding (public at registration, loopback at connect).
 */
export function fakeLookup(table: Record<string, string[] | ((call: number) => string[])>): Lookup {
  const calls = new Map<string, number>();
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: any[]) => void) => {
    const call = (calls.get(hostname) ?? 0) + 1;
    calls.set(hostname, call);
    const entry = table[hostname];
    const addresses = typeof entry === 'function' ? entry(call) : entry;
    if (!addresses) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    const all = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) callback(null, all);
    else callback(null, all[0]!.address, all[0]!.family);
  }) as unknown as Lookup;
}

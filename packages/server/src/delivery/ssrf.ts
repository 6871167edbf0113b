import dns from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Server-side request forgery protection. Webhook URLs come from users, so unless
 * PROTOCOL_ALLOW_PRIVATE_URLS=1 Protocol only ever connects to public unicast addresses:
 * checked at registration (literal addresses in any spelling, local names, and what a name
 * resolves to right now) and again at connect time on the address actually dialled, so DNS
 * rebinding cannot get around it.
 */
export type Lookup = typeof dns.lookup;

/** Names that mean "this machine or this network", whatever DNS says. */
const LOCAL_SUFFIXES = ['.localhost', '.local', '.localdomain', '.internal', '.intranet', '.lan', '.home.arpa', '.corp'];

export class BlockedDestinationError extends Error {
  readonly code = 'EPROTOCOL_BLOCKED';
}

/** True only for public unicast addresses; IPv4-mapped IPv6 is judged as the IPv4 it carries. */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  let address = ipaddr.parse(ip);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  return address.range() === 'unicast';
}

/** The URL's host as an IP literal (brackets removed), or undefined for a name. */
export function literalAddress(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(bare) ? bare : undefined;
}

function describe(ip: string): string {
  let address = ipaddr.parse(ip);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  return `${ip}, a ${address.range()} address`;
}

function lookupAll(lookup: Lookup, hostname: string, timeoutMs: number): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    lookup(hostname, { all: true }, (error, addresses) => {
      clearTimeout(timer);
      resolve(error ? undefined : (addresses as dns.LookupAddress[]).map((a) => a.address));
    });
  });
}

/**
 * Why a webhook URL is refused, or undefined when it is acceptable. The WHATWG parser has
 * already normalized decimal, hex and octal IPv4 spellings (`0x7f.1`, `2130706433`) to dotted
 * form, and IPv4-mapped IPv6 to hex groups, so one check sees them all.
 */
export async function urlProblem(raw: string, options: { allowPrivate: boolean; lookup?: Lookup; resolveTimeoutMs?: number }): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http or https URL';
  if (url.username || url.password) return 'must not contain credentials';
  if (options.allowPrivate) return undefined;

  const literal = literalAddress(url.hostname);
  if (literal) return isPublicAddress(literal) ? undefined : `must not point at ${describe(literal)}`;
  const name = url.hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || LOCAL_SUFFIXES.some((suffix) => name.endsWith(suffix))) return `must not point at a local name (${name})`;
  if (!name.includes('.')) return `must use a fully qualified domain name, not '${name}'`;
  // A name that does not resolve yet is accepted; the connect-time check still applies.
  const addresses = await lookupAll(options.lookup ?? dns.lookup, name, options.resolveTimeoutMs ?? 2000);
  const blocked = addresses?.find((address) => !isPublicAddress(address));
  return blocked ? `must not resolve to ${describe(blocked)}` : undefined;
}

/**
 * A `lookup` for the HTTP client's connector that refuses non-public results, so the address
 * checked is the address dialled.
 */
export function guardedLookup(lookup: Lookup = dns.lookup): Lookup {
  const guarded = (hostname: string, options: dns.LookupOptions, callback: (...args: any[]) => void) => {
    lookup(hostname, { ...options, all: true }, (error, results) => {
      if (error) return callback(error);
      const addresses = results as unknown as dns.LookupAddress[];
      const blocked = addresses.find((a) => !isPublicAddress(a.address));
      if (blocked) return callback(new BlockedDestinationError(`refused to connect: ${hostname} resolves to ${describe(blocked.address)}`));
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  return guarded as unknown as Lookup;
}

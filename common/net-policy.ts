import { type LookupAddress, lookup as lookupCallback } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InputError } from './errors.js';

/**
 * Which hosts the orchestrator may fetch sources from or post callbacks to.
 * Only http(s). By default only public addresses: loopback, private, link-local
 * (which includes cloud metadata at 169.254.169.254), CGNAT, multicast,
 * unspecified and deprecated ranges are refused, also when an IPv6 form carries
 * one of those IPv4 addresses (mapped, NAT64, 6to4, Teredo) — unless the host (or host:port) is on the
 * configured allow-list, which the embedded stack and tests use for 127.0.0.1.
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d (RFC 4291)
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): where the IPv4 address sits is the operator's choice
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local, deprecated (RFC 3879)
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}
const BLOCKED_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data']);

export interface NetPolicy {
  /** Entries are "host" or "host:port"; "*" allows any public host (the default) — private ranges still need naming. */
  allowedHosts: readonly string[];
}

export function parseAllowedHosts(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Checks a URL against the policy, resolving its host name. Throws InputError
 * `code` (e.g. SOURCE_REFUSED, CALLBACK_URL_REFUSED) when it is not allowed.
 */
export async function assertUrlAllowed(
  raw: string,
  policy: NetPolicy,
  code: string,
  resolve: (host: string) => Promise<string[]> = defaultResolve,
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(code, 'not a URL', { details: { url: raw } });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(code, `scheme ${url.protocol} is not allowed (http and https only)`, {
      details: { scheme: url.protocol },
    });
  }
  if (url.username || url.password) throw new InputError(code, 'credentials in URLs are not allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const named = policy.allowedHosts.includes(host) || policy.allowedHosts.includes(`${host}:${port}`);
  if (named) return url;
  if (BLOCKED_NAMES.has(host))
    throw new InputError(code, `host ${host} is not allowed`, { details: { host } });
  const addresses = isIP(host) ? [host] : await resolve(host).catch(() => []);
  if (addresses.length === 0)
    throw new InputError(code, `host ${host} does not resolve`, { details: { host } });
  for (const address of addresses) {
    if (isBlocked(address)) {
      throw new InputError(code, `host ${host} resolves to a private, loopback or link-local address`, {
        details: { host, address },
      });
    }
  }
  return url;
}

/** True when `address` (IPv4 or IPv6, or an IPv6 form that carries an IPv4 address) may not be reached. */
export function isBlocked(address: string): boolean {
  if (isIP(address) === 4) return BLOCKED.check(address, 'ipv4');
  const groups = ipv6Groups(address);
  if (!groups) return true; // not an address at all: nothing to allow
  if (BLOCKED.check(groups.map((g) => g.toString(16)).join(':'), 'ipv6')) return true;
  return carriedIpv4(groups).some((v4) => BLOCKED.check(v4, 'ipv4'));
}

/**
 * The IPv4 addresses an IPv6 address leads to, so they meet the IPv4 rules:
 * IPv4-mapped ::ffff:a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d (RFC 2765),
 * NAT64 64:ff9b::a.b.c.d (RFC 6052), 6to4 2002:AABB:CCDD:: (RFC 3056), and
 * Teredo 2001:0:SSSS:SSSS:…:~CCCC:~CCCC (RFC 4380: server and client).
 */
function carriedIpv4(g: number[]): string[] {
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return [v4(g[6]!, g[7]!)];
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return [v4(g[6]!, g[7]!)];
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return [v4(g[6]!, g[7]!)];
  if (g[0] === 0x2002) return [v4(g[1]!, g[2]!)];
  if (g[0] === 0x2001 && g[1] === 0) return [v4(g[2]!, g[3]!), v4(g[6]! ^ 0xffff, g[7]! ^ 0xffff)];
  return [];
}

/** The eight 16-bit groups of an IPv6 address (a zone like %eth0 dropped), or undefined when it is none. */
function ipv6Groups(address: string): number[] | undefined {
  const bare = address.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return undefined;
  const halves = bare.split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const head = parse(halves[0]!);
  const tail = halves.length > 1 ? parse(halves[1]!) : [];
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

async function defaultResolve(host: string): Promise<string[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for HTTP clients that re-checks the addresses a name resolves to
 * at connect time, so a host that passed assertUrlAllowed cannot be re-pointed
 * at a private address between the check and the request (DNS rebinding).
 */
export function guardedLookup(policy: NetPolicy, code: string) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    lookupCallback(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const named = policy.allowedHosts.some((h) => h === hostname || h.startsWith(`${hostname}:`));
      const bad = named ? undefined : addresses.find((a) => isBlocked(a.address));
      if (bad) {
        const refused = new InputError(
          code,
          `host ${hostname} resolves to a private, loopback or link-local address`,
          {
            details: { host: hostname, address: bad.address },
          },
        );
        return callback(refused as unknown as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

import { type LookupAddress, lookup as lookupCallback } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InputError } from './errors.js';

/**
 * Which hosts the orchestrator may fetch sources from or post callbacks to.
 * Only http(s). By default only public addresses: loopback, private, link-local
 * (which includes cloud metadata at 169.254.169.254), CGNAT, multicast and
 * unspecified ranges are refused — unless the host (or host:port) is on the
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
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
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

function isBlocked(address: string): boolean {
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is checked as the IPv4 address it carries.
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (dotted) return BLOCKED.check(dotted, 'ipv4');
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const n = (Number.parseInt(hex[1]!, 16) << 16) | Number.parseInt(hex[2]!, 16);
    return BLOCKED.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), 'ipv4');
  }
  return BLOCKED.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
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

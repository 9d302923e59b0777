import { describe, expect, it } from 'vitest';
import { assertUrlAllowed, isBlocked, parseAllowedHosts } from '../../common/net-policy.js';

const resolver = (table: Record<string, string[]>) => async (host: string) => table[host] ?? [];
const policy = { allowedHosts: ['127.0.0.1:8099', 'media.internal'] };
const dns = resolver({
  'example.org': ['93.184.215.14'],
  'rebind.example': ['93.184.215.14', '10.0.0.5'],
  'media.internal': ['10.1.2.3'],
  'v6.example': ['2606:4700::1'],
  'v6-local.example': ['fe80::1'],
  'nat64.example': ['64:ff9b::a00:1'],
  'sixtofour.example': ['2002:a9fe:a9fe::1'],
  'site-local.example': ['fec0::1'],
  'nat64-public.example': ['64:ff9b::5db8:d70e'],
});

describe('net policy', () => {
  it.each([
    'https://example.org/video.mp4',
    'http://example.org:8080/v.mp4',
    'http://127.0.0.1:8099/ok.mp4',
    'http://media.internal/v.mp4',
    'https://v6.example/v.mp4',
    'https://nat64-public.example/v.mp4',
    'http://[2002:5db8:d70e::1]/v.mp4',
  ])('allows %s', async (url) => {
    await expect(assertUrlAllowed(url, policy, 'SOURCE_REFUSED', dns)).resolves.toBeInstanceOf(URL);
  });

  it.each([
    ['file:///etc/passwd', 'scheme'],
    ['ftp://example.org/v.mp4', 'scheme'],
    ['gopher://example.org/', 'scheme'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'not allowed'],
    ['http://127.0.0.1:8080/system/functions', 'loopback'],
    ['http://localhost/', 'resolve'],
    ['http://[::1]/', 'loopback'],
    ['http://10.0.0.1/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://rebind.example/', 'private'],
    ['http://v6-local.example/', 'link-local'],
    ['http://user:pw@example.org/', 'credentials'],
    ['not a url', 'not a URL'],
    ['http://0.0.0.0/', 'private'],
    ['http://[::ffff:169.254.169.254]/', 'mapped link-local'],
    ['http://[::127.0.0.1]/', 'IPv4-compatible loopback'],
    ['http://[64:ff9b::10.0.0.1]/', 'NAT64 private'],
    ['http://[64:ff9b:1::a00:1]/', 'local-use NAT64'],
    ['http://[2002:7f00:1::]/', '6to4 loopback'],
    ['http://[fec0::1]/', 'site-local'],
    ['http://nat64.example/', 'resolves to NAT64 private'],
    ['http://sixtofour.example/', 'resolves to 6to4 metadata'],
    ['http://site-local.example/', 'resolves to site-local'],
  ])('refuses %s (%s)', async (url, why) => {
    await expect(assertUrlAllowed(url, policy, 'SOURCE_REFUSED', dns)).rejects.toMatchObject({
      code: 'SOURCE_REFUSED',
      status: 422,
    });
    void why;
  });

  // Every IPv6 form that carries an IPv4 address meets the IPv4 rules; deprecated ranges are refused.
  it.each([
    ['10.0.0.1', true],
    ['93.184.215.14', false],
    ['::', true],
    ['::1', true],
    ['::127.0.0.1', true], // IPv4-compatible (deprecated ::/96)
    ['::5db8:d70e', true], // IPv4-compatible, even of a public address
    ['::ffff:10.0.0.1', true],
    ['::ffff:a00:1', true],
    ['0:0:0:0:0:ffff:169.254.169.254', true],
    ['::ffff:5db8:d70e', false],
    ['::ffff:0:a00:1', true], // IPv4-translated (RFC 2765)
    ['64:ff9b::a00:1', true], // NAT64 → 10.0.0.1
    ['64:ff9b::169.254.169.254', true],
    ['64:ff9b::5db8:d70e', false], // NAT64 → 93.184.215.14
    ['64:ff9b:1::5db8:d70e', true], // local-use NAT64 (/48)
    ['64:ff9b:1:ab00::1', true],
    ['2002:a00:1::', true], // 6to4 → 10.0.0.1
    ['2002:7f00:1:1::1', true], // 6to4 → 127.0.0.1
    ['2002:5db8:d70e::1', false],
    ['2001:0:5db8:d70e::f5ff:fffe', true], // Teredo, client ~0a00:0001 = 10.0.0.1
    ['2001:0:5db8:d70e::a247:28f1', false], // Teredo, client 93.184.215.14
    ['fec0::1', true], // site-local (deprecated)
    ['feff::1', true],
    ['fe80::1%eth0', true],
    ['fc00::1', true],
    ['ff02::1', true],
    ['2606:4700::1', false],
    ['not-an-address', true],
  ])('isBlocked(%s) is %s', (address, blocked) => {
    expect(isBlocked(address)).toBe(blocked);
  });

  it('parses allow-lists', () => {
    expect(parseAllowedHosts(' 127.0.0.1:8099, Media.Internal ,,')).toEqual([
      '127.0.0.1:8099',
      'media.internal',
    ]);
    expect(parseAllowedHosts(undefined)).toEqual([]);
  });
});

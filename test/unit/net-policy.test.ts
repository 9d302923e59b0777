import { describe, expect, it } from 'vitest';
import { assertUrlAllowed, parseAllowedHosts } from '../../common/net-policy.js';

const resolver = (table: Record<string, string[]>) => async (host: string) => table[host] ?? [];
const policy = { allowedHosts: ['127.0.0.1:8099', 'media.internal'] };
const dns = resolver({
  'example.org': ['93.184.215.14'],
  'rebind.example': ['93.184.215.14', '10.0.0.5'],
  'media.internal': ['10.1.2.3'],
  'v6.example': ['2606:4700::1'],
  'v6-local.example': ['fe80::1'],
});

describe('net policy', () => {
  it.each([
    'https://example.org/video.mp4',
    'http://example.org:8080/v.mp4',
    'http://127.0.0.1:8099/ok.mp4',
    'http://media.internal/v.mp4',
    'https://v6.example/v.mp4',
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
  ])('refuses %s (%s)', async (url, why) => {
    await expect(assertUrlAllowed(url, policy, 'SOURCE_REFUSED', dns)).rejects.toMatchObject({
      code: 'SOURCE_REFUSED',
      status: 422,
    });
    void why;
  });

  it('parses allow-lists', () => {
    expect(parseAllowedHosts(' 127.0.0.1:8099, Media.Internal ,,')).toEqual([
      '127.0.0.1:8099',
      'media.internal',
    ]);
    expect(parseAllowedHosts(undefined)).toEqual([]);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeLookup } from '../test-support/dns.js';
import { guardedLookup, isPublicAddress, urlProblem } from './ssrf.js';

const lookup = fakeLookup({ 'example.com': ['93.184.215.14'], 'rebind.example.com': ['127.0.0.1'], 'mixed.example.com': ['93.184.215.14', '10.0.0.1'] });
const check = (url: string) => urlProblem(url, { allowPrivate: false, lookup });

test('every spelling of a non-public address is refused at registration', async () => {
  const refused = [
    'http://127.0.0.1/hook',
    'http://0x7f.0.0.1/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://017700000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:10.0.0.1]/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[fe80::1]/',
    'http://[fc00::1]/',
    'http://[ff02::1]/',
    'http://localhost:8080/',
    'http://LOCALHOST./',
    'http://api.localhost/',
    'http://printer.local/',
    'http://metadata.google.internal/',
    'http://intranet/',
    'https://user:pass@example.com/',
    'https://token@example.com/',
    'ftp://example.com/',
    'file:///etc/passwd',
    'not a url',
    'http://rebind.example.com/',
    'http://mixed.example.com/',
  ];
  for (const url of refused) assert.ok(await check(url), `${url} must be refused`);
});

test('public destinations, and names that do not resolve yet, are accepted', async () => {
  for (const url of ['https://example.com/webhooks', 'http://93.184.215.14:8080/x', 'https://[2606:2800:220:1:248:1893:25c8:1946]/', 'https://not-yet.example.org/hook']) {
    assert.equal(await check(url), undefined, url);
  }
  assert.equal(await urlProblem('http://127.0.0.1:3000/', { allowPrivate: true }), undefined, 'PROTOCOL_ALLOW_PRIVATE_URLS=1 allows local development');
  assert.ok(await urlProblem('https://u:p@127.0.0.1/', { allowPrivate: true }), 'credentials are refused even then');
});

test('the connect-time lookup refuses what a name resolves to now', async () => {
  const guarded = guardedLookup(lookup);
  const resolve = (host: string, all: boolean) =>
    new Promise<unknown>((done) => guarded(host, { all }, (error: Error | null, address: unknown) => done(error ?? address)));
  assert.match(String(await resolve('rebind.example.com', false)), /refused to connect: rebind.example.com resolves to 127.0.0.1, a loopback address/);
  assert.match(String(await resolve('mixed.example.com', true)), /10\.0\.0\.1, a private address/);
  assert.equal(await resolve('example.com', false), '93.184.215.14');
  assert.deepEqual(await resolve('example.com', true), [{ address: '93.184.215.14', family: 4 }]);
  assert.equal(isPublicAddress('8.8.8.8'), true);
  assert.equal(isPublicAddress('::ffff:8.8.8.8'), true);
  assert.equal(isPublicAddress('::ffff:192.168.0.1'), false);
});

// The package as users get it: plain Node, from the repository root, no TypeScript, no conditions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('../../..', import.meta.url));

test("import { ApiClient, verifyWebhook } from '@protocol/sdk' works in plain Node from the repository root", () => {
  const script = `
    import { ApiClient, verifyWebhook, signWebhook, EVENT_TYPES, ProtocolError } from '@protocol/sdk';
    const body = '{"id":"e","type":"contact.created","payload":{}}';
    const headers = signWebhook({ id: 'e', timestamp: Math.floor(Date.now() / 1000), body, secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] });
    const event = verifyWebhook(body, headers, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const client = new ApiClient('sk_x', { baseUrl: 'http://127.0.0.1:9/v1' });
    console.log(JSON.stringify([event.type, EVENT_TYPES.length, typeof client.contacts.list, typeof ProtocolError]));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), ['contact.created', 15, 'function', 'function']);
});

test('the SDK has no runtime dependencies', () => {
  const manifest = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(manifest.dependencies, undefined);
  assert.equal(manifest.name, '@protocol/sdk');
});

// The webhooks API: registration and validation (SSRF included), secrets and rotation,
// deliveries, tenant isolation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fakeLookup } from '../test-support/dns.js';
import { startEngine, type Engine } from '../test-support/engine.js';
import { startReceiver, type Receiver } from '../test-support/receiver.js';

let engine: Engine;
let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
  engine = await startEngine();
});
after(async () => {
  await engine.close();
  await receiver.close();
});

describe('webhooks API', () => {
  test('create returns the secret once; list and get never do', async () => {
    const created = await engine.api('POST', '/webhooks', { name: 'Orders', url: `${receiver.url}/hooks`, events: ['message.created', 'contact.created'] });
    assert.equal(created.status, 201);
    assert.match(created.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(created.body.secret.slice(6), 'base64').length, 32);
    assert.deepEqual(created.body.events, ['contact.created', 'message.created']);
    assert.equal(created.body.enabled, true);
    assert.equal(created.body.disabled_reason, null);
    const got = await engine.api('GET', `/webhooks/${created.body.id}`);
    assert.equal(got.body.secret, undefined);
    const { secret: _s, ...withoutSecret } = created.body;
    assert.deepEqual(got.body, withoutSecret);
    const list = await engine.api('GET', '/webhooks');
    assert.ok(list.body.data.every((w: object) => !('secret' in w)));
    assert.deepEqual((await engine.api('GET', `/webhooks/${created.body.id}/secret`)).body, { secret: created.body.secret });
  });

  test('update name, url, events and enabled; delete', async () => {
    const { body: webhook } = await engine.api('POST', '/webhooks', { name: 'A', url: `${receiver.url}/a`, events: ['group.created'] });
    const updated = await engine.api('PUT', `/webhooks/${webhook.id}`, { name: 'B', url: `${receiver.url}/b`, events: ['group.deleted', 'group.updated'] });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.name, 'B');
    assert.deepEqual(updated.body.events, ['group.updated', 'group.deleted']);
    const disabled = await engine.api('PATCH', `/webhooks/${webhook.id}`, { enabled: false });
    assert.equal(disabled.body.enabled, false);
    assert.match(disabled.body.disabled_reason, /Disabled/);
    const enabled = await engine.api('PATCH', `/webhooks/${webhook.id}`, { enabled: true });
    assert.deepEqual([enabled.body.enabled, enabled.body.disabled_reason], [true, null]);
    assert.equal((await engine.api('DELETE', `/webhooks/${webhook.id}`)).status, 204);
    assert.equal((await engine.api('GET', `/webhooks/${webhook.id}`)).status, 404);
  });

  test('validation: name, url and a non-empty list of known, distinct events', async () => {
    const before = (await engine.api('GET', '/webhooks?limit=100')).body.data.length;
    const bad: Array<[object, string]> = [
      [{ url: `${receiver.url}/x`, events: ['contact.created'] }, 'name'],
      [{ name: 'x', url: 'not a url', events: ['contact.created'] }, 'url'],
      [{ name: 'x', url: 'ftp://example.com/', events: ['contact.created'] }, 'url'],
      [{ name: 'x', url: `${receiver.url}/x`, events: [] }, 'events'],
      [{ name: 'x', url: `${receiver.url}/x`, events: ['contact.exploded'] }, 'events.0'],
      [{ name: 'x', url: `${receiver.url}/x`, events: ['contact.created', 'contact.created'] }, 'events'],
      [{ name: 'x', url: `${receiver.url}/x`, events: 'contact.created' }, 'events'],
      [{ name: 'x', url: `${receiver.url}/x`, events: ['contact.created'], secret: 'mine' }, 'secret'],
    ];
    for (const [body, param] of bad) {
      const response = await engine.api('POST', '/webhooks', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.param, param, JSON.stringify(response.body));
    }
    assert.equal((await engine.api('GET', '/webhooks?limit=100')).body.data.length, before);
  });

  test("another account's webhooks and deliveries are 404", async () => {
    const { body: webhook } = await engine.api('POST', '/webhooks', { name: 'mine', url: `${receiver.url}/m`, events: ['contact.created'] });
    const { body: delivery } = await engine.api('POST', `/webhooks/${webhook.id}/test`, {});
    const { key } = await engine.server.store.accounts.create('Intruder');
    for (const [method, route] of [
      ['GET', `/webhooks/${webhook.id}`],
      ['PUT', `/webhooks/${webhook.id}`],
      ['DELETE', `/webhooks/${webhook.id}`],
      ['GET', `/webhooks/${webhook.id}/secret`],
      ['POST', `/webhooks/${webhook.id}/rotate-secret`],
      ['POST', `/webhooks/${webhook.id}/test`],
      ['GET', `/webhooks/${webhook.id}/deliveries`],
      ['POST', `/webhooks/${webhook.id}/recover`],
      ['GET', `/deliveries/${delivery.id}`],
      ['POST', `/deliveries/${delivery.id}/retry`],
    ] as const) {
      const body = method === 'PUT' ? { name: 'x' } : route.endsWith('recover') ? { since: 0 } : undefined;
      const response = await engine.api(method, route, body, key);
      assert.equal(response.status, 404, `${method} ${route}: ${JSON.stringify(response.body)}`);
    }
    assert.equal((await engine.api('GET', `/webhooks/${webhook.id}`)).body.name, 'mine');
  });
});

describe('SSRF at registration', () => {
  test('non-public destinations are refused when private URLs are not allowed', async () => {
    const strict = await startEngine({ PROTOCOL_ALLOW_PRIVATE_URLS: '0' }, { lookup: fakeLookup({ 'internal.example.com': ['10.0.0.7'], 'example.com': ['93.184.215.14'] }) });
    try {
      for (const url of ['http://127.0.0.1/', 'http://0x7f.0.0.1/', 'http://2130706433/', 'http://[::ffff:127.0.0.1]/', 'http://localhost/', 'http://169.254.169.254/', 'http://internal.example.com/', 'https://user:pw@example.com/']) {
        const response = await strict.api('POST', '/webhooks', { name: 'x', url, events: ['contact.created'] });
        assert.equal(response.status, 400, url);
        assert.equal(response.body.param, 'url');
        assert.match(response.body.message, /must not/);
      }
      const ok = await strict.api('POST', '/webhooks', { name: 'x', url: 'https://example.com/hooks', events: ['contact.created'] });
      assert.equal(ok.status, 201);
      const moved = await strict.api('PUT', `/webhooks/${ok.body.id}`, { url: 'http://10.0.0.1/' });
      assert.equal(moved.status, 400, 'updates are checked too');
      assert.equal((await strict.api('GET', '/webhooks')).body.data.length, 1);
    } finally {
      await strict.close();
    }
  });
});

// The dashboard in real headless Chromium against the real server, with a local receiver.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startEngine, type Engine } from '../../server/src/test-support/engine.js';
import { startReceiver, type Receiver } from '../../server/src/test-support/receiver.js';

let engine: Engine;
let receiver: Receiver;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let failing = true;

before(async () => {
  receiver = await startReceiver((request) => (request.path === '/flaky' && failing ? { status: 500, body: 'down for maintenance' } : { status: 200, body: 'ok' }));
  engine = await startEngine({ PROTOCOL_RETRY_SCHEDULE: '200ms', PROTOCOL_RETENTION: '14d' });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});
after(async () => {
  await browser?.close();
  await engine?.close();
  await receiver?.close();
});

const sessionCookie = async () => (await context.cookies()).find((c) => c.name === 'protocol_session');

test('an unauthenticated visit to any page shows sign-in; a bad key is refused inline', async () => {
  for (const path of ['/', '/webhooks', '/events', '/api-keys', '/webhooks/AAAAAAAAAAAAAAAA']) {
    await page.goto(`${engine.url}${path}`);
    await page.getByRole('heading', { name: 'Sign in to Protocol' }).waitFor();
  }
  await page.goto(`${engine.url}/webhooks`);
  await page.getByLabel('API key').fill('sk_not_a_real_key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'That API key is not valid' }).waitFor();
  assert.equal(await sessionCookie(), undefined);
});

test('sign-in exchanges the key for an httpOnly, SameSite=Strict cookie the page cannot read', async () => {
  await page.getByLabel('API key').fill(engine.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
  await page.getByText('No webhooks yet').waitFor();
  const cookie = await sessionCookie();
  assert.ok(cookie);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes(engine.key), 'the key is not kept in web storage');
});

test('cookie-authenticated writes from another origin are refused (CSRF)', async () => {
  const cookie = await sessionCookie();
  const headers = { cookie: `protocol_session=${cookie!.value}`, 'content-type': 'application/json' };
  const forged = await fetch(`${engine.url}/v1/contacts`, { method: 'POST', headers: { ...headers, origin: 'https://evil.example' }, body: JSON.stringify({ username: 'csrf', phone_number: '1' }) });
  assert.equal(forged.status, 401);
  const noOrigin = await fetch(`${engine.url}/v1/contacts`, { method: 'POST', headers, body: JSON.stringify({ username: 'csrf', phone_number: '1' }) });
  assert.equal(noOrigin.status, 401);
  assert.equal((await fetch(`${engine.url}/v1/contacts`, { headers })).status, 200, 'reads are fine');
  assert.equal((await engine.api('GET', '/contacts')).body.data.length, 0, 'nothing was created');
});

test('create a webhook through the form: inline errors, grouped events, the secret shown once', async () => {
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.getByRole('alert').filter({ hasText: "The field 'name' must not be empty" }).waitFor();
  await page.getByLabel('Name').fill('Contacts to my app');
  await page.getByLabel('URL', { exact: true }).fill('not a url');
  await page.getByLabel('Select all contacts events').check();
  assert.equal(await page.getByLabel('contact.deleted').isChecked(), true, 'select-all checks the group');
  assert.equal(await page.getByLabel('message.created').isChecked(), false);
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.getByRole('alert').filter({ hasText: "The field 'url'" }).waitFor();
  assert.equal(await page.getByLabel('URL', { exact: true }).getAttribute('aria-invalid'), 'true', 'the error sits on the URL field');
  await page.getByLabel('URL', { exact: true }).fill(`${receiver.url}/hook`);
  await page.getByRole('button', { name: 'Create webhook' }).click();
  const secret = await page.getByTestId('secret').textContent();
  assert.match(secret!, /^whsec_/);
  await page.getByRole('button', { name: 'Copy signing secret' }).waitFor();
  const [webhook] = (await engine.api('GET', '/webhooks')).body.data;
  assert.deepEqual(webhook.events, ['contact.created', 'contact.updated', 'contact.deleted']);
  assert.equal((await engine.api('GET', `/webhooks/${webhook.id}/secret`)).body.secret, secret);
  await page.getByRole('link', { name: 'Contacts to my app' }).waitFor();
});

test('a delivery and its outcome: request, attempts, response', async () => {
  await engine.api('POST', '/contacts', { username: 'KevinMcCallister', phone_number: '1-800-759-3000' });
  await receiver.waitFor(1, { filter: (r) => r.path === '/hook' });
  await page.getByRole('link', { name: 'Contacts to my app' }).click();
  await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
  const view = page.getByRole('button', { name: /^View delivery / });
  await view.first().waitFor();
  await page.getByText('succeeded', { exact: true }).first().waitFor();
  await view.first().click();
  const detail = page.getByTestId('delivery-detail');
  await detail.getByText('HTTP 200').waitFor();
  assert.match((await detail.getByLabel('Request body').textContent())!, /KevinMcCallister/);
  assert.match((await detail.getByLabel('Request headers').textContent())!, /webhook-signature/);
  // How long this history is kept comes from the server's PROTOCOL_RETENTION.
  assert.equal(await page.getByTestId('retention').textContent(), 'Deliveries and their attempts older than 14 days are deleted automatically.');
});

test('retrying a failed delivery from its detail', async () => {
  const { body: flaky } = await engine.api('POST', '/webhooks', { name: 'Flaky', url: `${receiver.url}/flaky`, events: ['group.created'] });
  await engine.api('POST', '/groups', { name: 'Plaza Hotel' });
  const [delivery] = (await engine.api('GET', `/webhooks/${flaky.id}/deliveries`)).body.data;
  await engine.waitForDelivery(delivery.id, (d) => d.status === 'failed');
  await page.goto(`${engine.url}/webhooks/${flaky.id}`);
  await page.getByLabel('Status').selectOption('failed');
  await page.getByRole('button', { name: `View delivery ${delivery.id}` }).click();
  const detail = page.getByTestId('delivery-detail');
  await detail.getByText('HTTP 500').first().waitFor();
  assert.equal(await detail.getByTestId('attempt').count(), 2);
  failing = false;
  await detail.getByRole('button', { name: 'Retry delivery' }).click();
  await detail.getByText('HTTP 200').waitFor();
  assert.equal(await detail.getByTestId('attempt').count(), 3);
  assert.equal((await engine.api('GET', `/deliveries/${delivery.id}`)).body.status, 'succeeded');
});

test('reveal, copy and rotate the secret, with a confirmation that explains the overlap', async () => {
  const [webhook] = (await engine.api('GET', '/webhooks')).body.data.filter((w: { name: string }) => w.name === 'Flaky');
  const before = (await engine.api('GET', `/webhooks/${webhook.id}/secret`)).body.secret;
  assert.equal(await page.getByTestId('secret').count(), 0, 'hidden until revealed');
  await page.getByRole('button', { name: 'Reveal secret' }).click();
  assert.equal(await page.getByTestId('secret').textContent(), before);
  await page.getByRole('button', { name: 'Hide secret' }).click();
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const dialog = page.getByRole('alertdialog');
  assert.match((await dialog.textContent())!, /24 hours/);
  await dialog.getByRole('button', { name: 'Yes, rotate the secret' }).click();
  const after = await page.getByTestId('secret').textContent();
  assert.notEqual(after, before);
  assert.equal((await engine.api('GET', `/webhooks/${webhook.id}/secret`)).body.secret, after);
});

test('send a test event, disable and enable', async () => {
  await page.getByLabel('Event type').selectOption('attachment.deleted');
  await page.getByRole('button', { name: 'Send test event' }).click();
  await page.getByText(/Sent a signed example attachment\.deleted event/).waitFor();
  await receiver.waitFor(1, { filter: (r) => r.path === '/flaky' && r.body.includes('attachment.deleted') });
  await page.getByRole('button', { name: 'Disable webhook' }).click();
  await page.getByText('Disabled through the API').waitFor();
  await page.getByRole('button', { name: 'Enable webhook' }).click();
  await page.getByRole('button', { name: 'Disable webhook' }).waitFor();
});

test('the events log with a type filter and a payload viewer', async () => {
  await page.getByRole('link', { name: 'Events' }).click();
  await page.getByRole('heading', { name: 'Events' }).waitFor();
  await page.getByText('Events older than 14 days are deleted automatically.').waitFor();
  await page.getByLabel('Event type').selectOption('group.created');
  const view = page.getByRole('button', { name: /^View payload of / });
  await view.first().waitFor();
  assert.equal(await view.count(), 1);
  await view.first().click();
  assert.match((await page.getByLabel(/^Payload of /).textContent())!, /Plaza Hotel/);

  // Paging: 30 more contacts make more than a page of contact.created events.
  for (let i = 0; i < 30; i++) await engine.api('POST', '/contacts', { username: `pager${i}`, phone_number: '1' });
  await page.getByLabel('Event type').selectOption('contact.created');
  await page.getByRole('button', { name: /^View payload of / }).first().waitFor();
  const newest = await page.getByRole('button', { name: /^View payload of / }).first().textContent();
  assert.equal(await page.getByRole('button', { name: 'Newer' }).isDisabled(), true, 'nothing is newer than the first page');
  await page.getByRole('button', { name: 'Older' }).click();
  await page.waitForFunction((first) => document.querySelector('[aria-label="Events"] button')?.textContent !== first, newest);
  assert.equal(await page.getByRole('button', { name: 'Older' }).isDisabled(), true, '31 events: the second page is the last');
  await page.getByRole('button', { name: 'Newer' }).click();
  await page.waitForFunction((first) => document.querySelector('[aria-label="Events"] button')?.textContent === first, newest);
});

test('create an API key (shown once) and revoke it', async () => {
  await page.getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Key name').fill('CI');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const key = (await page.getByTestId('secret').textContent())!;
  assert.match(key, /^sk_/);
  assert.equal((await engine.api('GET', '/contacts', undefined, key)).status, 200, 'the new key works');
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Revoke CI' }).click();
  await page.getByRole('button', { name: 'Revoke CI' }).waitFor({ state: 'detached' });
  assert.equal((await engine.api('GET', '/contacts', undefined, key)).status, 401, 'a revoked key stops working');
});

test('it works at phone width and is keyboard-usable', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('link', { name: 'Webhooks' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `no sideways scrolling at phone width (${overflow}px)`);
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('the API reference at /docs renders the OpenAPI document', async () => {
  assert.equal(await page.getByRole('link', { name: 'API reference' }).getAttribute('href'), '/docs');
  const docs = await browser.newPage();
  try {
    await docs.goto(`${engine.url}/docs`);
    await docs.getByRole('heading', { name: /Protocol API/ }).waitFor();
    await docs.getByText('/v1/webhooks/{id}/rotate-secret').first().waitFor();
    assert.ok((await docs.getByText('Send a message').count()) >= 1);
  } finally {
    await docs.close();
  }
});

test('sign-out ends the session on the server', async () => {
  const cookie = (await sessionCookie())!;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Protocol' }).waitFor();
  const replay = await fetch(`${engine.url}/v1/session`, { headers: { cookie: `protocol_session=${cookie.value}` } });
  assert.equal(replay.status, 401, 'the old cookie is dead');
  await page.goto(`${engine.url}/events`);
  await page.getByRole('heading', { name: 'Sign in to Protocol' }).waitFor();
});

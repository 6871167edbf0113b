// The OpenAPI document is generated from the routes: every route is in it, every operation has
// its answers described, and the described schemas accept what the server really answers (one
// call to every operation, its successes and its errors).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { openApi, type ApiFixture } from '../test-support/api.js';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
let api: ApiFixture;
let doc: any;
before(async () => {
  api = await openApi();
  const response = await api.request('GET', '/v1/openapi.json', { key: null });
  assert.equal(response.status, 200);
  doc = response.body;
});
after(() => api.close());

/** Fastify's `/v1/contacts/:id` is OpenAPI's `/v1/contacts/{id}`. */
const template = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const NOT_API = /^(HEAD|OPTIONS) |^GET \/(docs|\*|index\.html|assets)|^GET \/v1\/openapi\.json$|^GET \/$/;

test('an OpenAPI 3.1 document that lists every route the server has', () => {
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(doc.info.title, 'Protocol API');
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`)));
  const routes = [...new Set(api.routes.map((r) => r.replace(/ (.*)$/, (_, url: string) => ` ${template(url)}`)))].filter((r) => !NOT_API.test(r));
  assert.ok(routes.length >= 45, `${routes.length} routes`);
  assert.deepEqual(routes.filter((r) => !documented.has(r)), [], 'routes missing from the document');
  assert.deepEqual([...documented].filter((r) => !routes.includes(r)), [], 'documented routes the server lacks');
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      assert.ok(op.summary, `${method} ${path} has a summary`);
      assert.ok(Object.keys(op.responses).some((s) => /^2/.test(s)), `${method} ${path} documents its success`);
      if (path.startsWith('/v1/') && path !== '/v1/session') assert.ok(op.security, `${method} ${path} says how to authenticate`);
    }
  }
});

test('the schemas accept every answer the server gives, success and error', async () => {
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const validators = new Map<string, ValidateFunction>();
  const seen = new Set<string>();
  const check = async (method: string, path: string, concrete: string, options: Parameters<ApiFixture['request']>[2] = {}) => {
    const response = await api.request(method, concrete, options);
    const op = doc.paths[path]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${path} is documented`);
    const described = op.responses[String(response.status)] ?? op.responses[`${String(response.status)[0]}XX`];
    assert.ok(described, `${method} ${concrete} answered ${response.status}, which ${path} does not document`);
    const schema = described.content?.['application/json']?.schema;
    if (response.status === 204) assert.equal(response.body, '');
    else if (schema) {
      const key = `${method} ${path} ${response.status}`;
      if (!validators.has(key)) validators.set(key, ajv.compile(schema));
      const validate = validators.get(key)!;
      assert.ok(validate(response.body), `${key}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(response.body)}`);
    }
    if (response.status < 300) seen.add(`${method} ${path}`);
    return response.body;
  };

  // Probes and the account.
  await check('GET', '/healthz', '/healthz');
  await check('GET', '/readyz', '/readyz');
  const metrics = await api.request('GET', '/metrics');
  assert.equal(metrics.status, 200);
  seen.add('GET /metrics');
  await check('GET', '/v1/settings', '/v1/settings');
  await check('GET', '/v1/session', '/v1/session');
  await check('POST', '/v1/session', '/v1/session', { json: { api_key: api.key }, headers: { origin: api.url }, key: null });
  await check('POST', '/v1/session', '/v1/session', { json: { api_key: 'wrong' }, headers: { origin: api.url }, key: null });
  await check('DELETE', '/v1/session', '/v1/session', { key: null });
  const newKey = await check('POST', '/v1/api_keys', '/v1/api_keys', { json: { name: 'OpenAPI' } });
  await check('GET', '/v1/api_keys', '/v1/api_keys');
  await check('DELETE', '/v1/api_keys/{id}', `/v1/api_keys/${newKey.id}`);

  // The five resources, each operation once, plus their errors.
  const contact = await check('POST', '/v1/contacts', '/v1/contacts', { json: { username: 'Kevin', phone_number: '1-800-759-3000', avatar_url: 'https://x.test/k.png' } });
  const other = await check('POST', '/v1/contacts', '/v1/contacts', { json: { username: 'Buzz', phone_number: '1-800-759-3001' } });
  await check('POST', '/v1/contacts', '/v1/contacts', { json: { username: 'NoPhone' } });
  await check('GET', '/v1/contacts', '/v1/contacts?limit=1');
  await check('GET', '/v1/contacts/{id}', `/v1/contacts/${contact.id}`);
  await check('GET', '/v1/contacts/{id}', '/v1/contacts/nope');
  await check('PUT', '/v1/contacts/{id}', `/v1/contacts/${contact.id}`, { json: { display_name: 'Kev' } });
  await check('PATCH', '/v1/contacts/{id}', `/v1/contacts/${contact.id}`, { json: { display_name: null } });
  await check('POST', '/v1/conversations', '/v1/conversations', { json: { contact_id: contact.id } }); // 409: it has one
  await check('POST', '/v1/conversations', '/v1/conversations', { json: {} }); // 400
  const own = await check('GET', '/v1/contacts/{id}', `/v1/contacts/${contact.id}`);
  await check('DELETE', '/v1/conversations/{id}', `/v1/conversations/${own.conversation_id}`);
  const conversation = await check('POST', '/v1/conversations', '/v1/conversations', { json: { contact_id: contact.id } });
  await check('GET', '/v1/conversations', '/v1/conversations');
  await check('GET', '/v1/conversations/{id}', `/v1/conversations/${conversation.id}`);
  await check('PUT', '/v1/conversations/{id}', `/v1/conversations/${conversation.id}`, { json: { is_pinned: true } });
  await check('PATCH', '/v1/conversations/{id}', `/v1/conversations/${conversation.id}`, { json: { is_muted: true } });
  const form = new FormData();
  form.append('file', new Blob(['hello']), 'hello.txt');
  const attachment = await check('POST', '/v1/attachments', '/v1/attachments', { body: form });
  await check('GET', '/files/{account}/{key}', new URL(attachment.file_url).pathname, { key: null });
  const message = await check('POST', '/v1/messages', '/v1/messages', { json: { conversation_id: conversation.id, message: 'Hi', contact_id: contact.id, attachments: [attachment.id] } });
  await check('POST', '/v1/messages', '/v1/messages', { json: { conversation_id: conversation.id, message: 'x', unknown: 1 } });
  await check('GET', '/v1/messages', '/v1/messages');
  await check('GET', '/v1/messages/{id}', `/v1/messages/${message.id}`);
  await check('PUT', '/v1/messages/{id}', `/v1/messages/${message.id}`, { form: 'reactions[red_angry_face][]=Kevin' });
  await check('PATCH', '/v1/messages/{id}', `/v1/messages/${message.id}`, { json: { read_at: 1700000000 } });
  await check('GET', '/v1/attachments', '/v1/attachments');
  await check('GET', '/v1/attachments/{id}', `/v1/attachments/${attachment.id}`);
  await check('PUT', '/v1/attachments/{id}', `/v1/attachments/${attachment.id}`, { json: { filename: 'hi.txt' } });
  await check('PATCH', '/v1/attachments/{id}', `/v1/attachments/${attachment.id}`, { json: { filename: 'hey.txt' } });
  const group = await check('POST', '/v1/groups', '/v1/groups', { json: { name: 'Family', contacts: [contact.id, other.id] } });
  await check('GET', '/v1/groups', '/v1/groups');
  await check('GET', '/v1/groups/{id}', `/v1/groups/${group.id}`);
  await check('PUT', '/v1/groups/{id}', `/v1/groups/${group.id}`, { json: { description: 'All of us' } });
  await check('PATCH', '/v1/groups/{id}', `/v1/groups/${group.id}`, { json: { name: 'McCallisters' } });

  // Webhooks, deliveries, events.
  const webhook = await check('POST', '/v1/webhooks', '/v1/webhooks', { json: { name: 'Docs', url: `${api.url}/hook`, events: ['message.created'] } });
  await check('POST', '/v1/webhooks', '/v1/webhooks', { json: { name: 'Bad', url: 'ftp://x', events: ['message.created'] } });
  await check('GET', '/v1/webhooks', '/v1/webhooks');
  await check('GET', '/v1/webhooks/{id}', `/v1/webhooks/${webhook.id}`);
  await check('PUT', '/v1/webhooks/{id}', `/v1/webhooks/${webhook.id}`, { json: { name: 'Docs 2' } });
  await check('PATCH', '/v1/webhooks/{id}', `/v1/webhooks/${webhook.id}`, { json: { enabled: true } });
  await check('GET', '/v1/webhooks/{id}/secret', `/v1/webhooks/${webhook.id}/secret`);
  await check('POST', '/v1/webhooks/{id}/rotate-secret', `/v1/webhooks/${webhook.id}/rotate-secret`);
  const delivery = await check('POST', '/v1/webhooks/{id}/test', `/v1/webhooks/${webhook.id}/test`, { json: { type: 'group.created' } });
  await check('POST', '/v1/webhooks/{id}/recover', `/v1/webhooks/${webhook.id}/recover`, { json: { since: 0 } });
  await check('GET', '/v1/webhooks/{id}/deliveries', `/v1/webhooks/${webhook.id}/deliveries`);
  await check('GET', '/v1/deliveries/{id}', `/v1/deliveries/${delivery.id}`);
  await check('POST', '/v1/deliveries/{id}/retry', `/v1/deliveries/${delivery.id}/retry`);
  const events = await check('GET', '/v1/events', '/v1/events?limit=100');
  assert.ok(events.data.length > 5);
  await check('GET', '/v1/events/{id}', `/v1/events/${events.data[0].id}`);
  await check('GET', '/v1/events', '/v1/events?type=nope');

  // Deletes last.
  await check('DELETE', '/v1/webhooks/{id}', `/v1/webhooks/${webhook.id}`);
  await check('DELETE', '/v1/messages/{id}', `/v1/messages/${message.id}`);
  await check('DELETE', '/v1/attachments/{id}', `/v1/attachments/${attachment.id}`);
  await check('DELETE', '/v1/groups/{id}', `/v1/groups/${group.id}`);
  await check('DELETE', '/v1/contacts/{id}', `/v1/contacts/${contact.id}`);
  await check('GET', '/v1/contacts', '/v1/contacts', { key: 'sk_not_a_key' });

  const operations = Object.entries<any>(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  assert.deepEqual(operations.filter((op) => !seen.has(op)), [], 'operations this walk did not call successfully');
});

test('the reference at /docs serves Swagger UI for the document', async () => {
  const page = await api.request('GET', '/docs/static/index.html', { key: null });
  assert.equal(page.status, 200);
  assert.match(page.body, /swagger-ui/i);
  const spec = await api.request('GET', '/docs/json', { key: null });
  assert.deepEqual(spec.body.paths, doc.paths);
});

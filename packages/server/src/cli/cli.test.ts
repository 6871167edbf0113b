// Black-box: the real `protocol` process on port 0, on a fresh SQLite file and a fresh
// PostgreSQL schema.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { runCli, startProtocol } from '../test-support/process.js';

const get = (url: string, key?: string) => fetch(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});

for (const target of await testDatabases()) {
  describe(`protocol serve on ${target.name}`, () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-cli-'));
    const env = { PROTOCOL_DATA_DIR: dataDir, PROTOCOL_DATABASE_URL: target.url };
    after(async () => {
      await target.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('a fresh database: migrates, creates the default account, prints the URL and its key, serves, stops on SIGTERM', async () => {
      const server = await startProtocol(['serve'], env);
      try {
        const key = server.stdout().match(/^(sk_[A-Za-z0-9]{32})$/m)?.[1];
        assert.ok(key, `a key is printed:\n${server.stdout()}`);
        assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.match(server.stdout(), new RegExp(`^Dashboard: ${server.url}/$`, 'm'), 'the dashboard URL is printed');
        const dashboard = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
        assert.equal(dashboard.status, 200);
        assert.match(await dashboard.text(), /<div id="root">/);
        assert.equal((await get(`${server.url}/healthz`)).status, 200);
        assert.equal((await get(`${server.url}/readyz`)).status, 200);
        const created = await fetch(`${server.url}/v1/contacts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'username=FrankMcCallister&phone_number=1-800-759-3000',
        });
        assert.equal(created.status, 201);
        assert.equal((await get(`${server.url}/v1/contacts`)).status, 401);
      } finally {
        assert.equal(await server.stop('SIGTERM'), 0, 'a graceful stop exits 0');
      }
      assert.ok(!server.stdout().includes('"level":50'), 'no errors were logged');
    });

    test('a second start prints no key; PROTOCOL_API_KEY makes a known key work, idempotently', async () => {
      const known = 'sk_known_key_for_tests_0123456789';
      for (let round = 0; round < 2; round++) {
        const server = await startProtocol(['serve'], { ...env, PROTOCOL_API_KEY: known });
        try {
          assert.doesNotMatch(server.stdout(), /^sk_/m, 'the existing account keeps its key secret');
          const contacts = await (await get(`${server.url}/v1/contacts`, known)).json();
          assert.equal(contacts.data.length, 1, 'the default account is the one created before');
        } finally {
          await server.stop();
        }
      }
    });

    test('accounts create prints the new key as the last line, and the key works for a new, separate account', async () => {
      const result = await runCli(['accounts', 'create', '--name', 'Wet Bandits'], env);
      assert.equal(result.code, 0, result.stderr);
      const key = result.stdout.trim().split('\n').at(-1)!;
      assert.match(key, /^sk_[A-Za-z0-9]{32}$/);
      const server = await startProtocol(['serve'], env);
      try {
        const contacts = await (await get(`${server.url}/v1/contacts`, key)).json();
        assert.deepEqual(contacts, { has_more: false, data: [] }, "the new account does not see the default account's contact");
      } finally {
        await server.stop();
      }
    });

    test('migrate reports an up-to-date database', async () => {
      const result = await runCli(['migrate'], env);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /up to date/);
    });
  });
}

test('invalid configuration stops the start and names every problem', async () => {
  const result = await runCli(['serve'], { PORT: 'eighty', PROTOCOL_RETRY_SCHEDULE: 'soon', PROTOCOL_DATA_DIR: os.tmpdir() });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /PORT="eighty" is invalid/);
  assert.match(result.stderr, /PROTOCOL_RETRY_SCHEDULE="soon" is invalid/);
});

test('--help lists the commands', async () => {
  const result = await runCli(['--help'], {});
  assert.equal(result.code, 0);
  for (const command of ['serve', 'migrate', 'accounts']) assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  const accounts = await runCli(['accounts', 'create', '--help'], {});
  assert.match(accounts.stdout, /--name <name>/);
});

test("each server command's --help lists its flags and the environment it reads", async () => {
  const flags: Record<string, string[]> = {
    serve: ['--port <port>', '--host <host>', '--database-url <url>', '--no-worker'],
    worker: ['--port <port>', '--host <host>', '--database-url <url>'],
    migrate: ['--database-url <url>'],
  };
  for (const [command, expected] of Object.entries(flags)) {
    const help = await runCli([command, '--help'], {});
    assert.equal(help.code, 0);
    for (const flag of expected) assert.ok(help.stdout.includes(flag), `${command} --help lists ${flag}`);
    if (command !== 'migrate') for (const name of ['PROTOCOL_RATE_LIMIT', 'PROTOCOL_RETENTION', 'PROTOCOL_DATABASE_URL', 'PORT']) assert.match(help.stdout, new RegExp(`\\b${name}\\b`));
  }
});

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { testDatabases } from '../../test-support/databases.js';
import { arrayParameter } from './pg-arrays.js';

const targets = await testDatabases();
const postgres = targets.find((t) => t.name === 'postgres');
const client = postgres && new pg.Client({ connectionString: postgres.url });
await client?.connect();
after(async () => {
  await client?.end();
  await Promise.all(targets.map((t) => t.drop()));
});

/** What PostgreSQL reads from the parameter, element by element, in order. */
async function roundTrip(values: readonly unknown[], type: 'text' | 'bigint'): Promise<unknown[]> {
  const { rows } = await client!.query(`select x::text from unnest(cast($1 as ${type}[])) with ordinality as t(x, n) order by n`, [arrayParameter(values)]);
  return rows.map((row) => row.x);
}

const headers = JSON.stringify({ 'content-type': 'application/json', 'x-note': 'a "quoted" \\ back\\slash, {braces}, commas', 'x-line': 'one\ntwo' });
const plain = ['abc', '', 'NULL', 'null', ' padded ', '{,}', 'say "hi"', 'back\\slash\\', headers, 'é ß 中 \u007f', null];

test('arrays of plain strings, finite numbers and nulls go as JSON-written literals that PostgreSQL reads back exactly', { skip: !postgres && 'PostgreSQL not reachable' }, async () => {
  assert.equal(typeof arrayParameter(plain), 'string');
  assert.deepEqual(await roundTrip(plain, 'text'), plain);
  const numbers = [0, -1, 42, 1764460000000, Number.MAX_SAFE_INTEGER, null];
  assert.equal(arrayParameter(numbers), '{0,-1,42,1764460000000,9007199254740991,null}');
  assert.deepEqual(await roundTrip(numbers, 'bigint'), numbers.map((n) => (n === null ? null : String(n))));
  assert.equal(arrayParameter([]), '{}');
  assert.deepEqual(await roundTrip([], 'text'), []);
});

test('arrays JSON would write differently (control characters, surrogates, other values) are left to pg, and still read back exactly', { skip: !postgres && 'PostgreSQL not reachable' }, async () => {
  for (const odd of ['line\nbreak', 'tab\there', '\u0001', 'emoji 🙂', 'half \ud83c']) {
    const values = ['plain', odd, null];
    assert.equal(arrayParameter(values), values, JSON.stringify(odd));
    // pg sends an unpaired surrogate as UTF-8's replacement character; every other one comes back as it went.
    assert.deepEqual(await roundTrip(values, 'text'), ['plain', odd.replace(/[\ud800-\udbff](?![\udc00-\udfff])/g, '\ufffd'), null], JSON.stringify(odd));
  }
  for (const values of [[1, Number.NaN], [1, Infinity], [true], [{ a: 1 }], [undefined], [10n]]) assert.equal(arrayParameter(values), values);
});

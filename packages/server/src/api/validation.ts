import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { invalid } from '../errors.js';

/**
 * Two validators per schema. JSON bodies are strict: a wrong type is the caller's bug and gets a
 * 400. Query strings and form-encoded bodies arrive as strings, so they are coerced by the schema
 * (`"true"` → true, `"42"` → 42, `""` → null, one value → a one-element array). Neither removes
 * unknown fields: those are a 400 too.
 */
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const strict = addFormats(new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false }), ['uri', 'date-time']);
const coercing = addFormats(new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false }), ['uri', 'date-time']);

/** Bodies that came form-encoded; the body validator coerces only these. */
const formBodies = new WeakSet<object>();
export function markFormBody<T extends object>(body: T): T {
  formBodies.add(body);
  return body;
}

export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) => {
  if (httpPart !== 'body') return coercing.compile(schema);
  const json = strict.compile(schema);
  const form = coercing.compile(schema);
  // Fastify passes a missing body as null. Treat it as `{}`, so a bodiless POST gets "Missing
  // required field 'x'" where fields are required, and works where none are.
  const validate = (input: unknown) => {
    const data = input ?? {};
    const check = typeof data === 'object' && data !== null && formBodies.has(data) ? form : json;
    return check(data) ? { value: data } : { error: Object.assign(new Error('validation'), { validation: check.errors ?? [] }) };
  };
  return validate;
};

/** Turns the first schema error into a sentence that names the field, and that field. */
export function describeValidationError(error: ErrorObject, context: string): { message: string; param?: string } {
  const path = error.instancePath.split('/').filter(Boolean).join('.');
  const where = context === 'querystring' ? 'query parameter' : 'field';
  const join = (field: string) => (path ? `${path}.${field}` : field);
  switch (error.keyword) {
    case 'additionalProperties': {
      const param = join(String(error.params.additionalProperty));
      return { message: `Unknown ${where} '${param}'`, param };
    }
    case 'required': {
      const param = join(String(error.params.missingProperty));
      return { message: `Missing required ${where} '${param}'`, param };
    }
    case 'type':
      if (!path) return { message: context === 'body' ? 'The request body must be a JSON object or a form' : `Invalid ${context}` };
      return { message: `The ${where} '${path}' must be ${String(error.params.type).replace(',', ' or ')}`, param: path };
    case 'minLength':
      if (error.params.limit === 1) return { message: `The ${where} '${path}' must not be empty`, param: path };
      return { message: `The ${where} '${path}' must be at least ${error.params.limit} characters long`, param: path };
    case 'minItems':
      return { message: `The ${where} '${path}' must list at least ${error.params.limit} item${error.params.limit === 1 ? '' : 's'}`, param: path };
    case 'enum':
      return { message: `The ${where} '${path}' must be one of: ${(error.params.allowedValues as string[]).join(', ')}`, param: path };
    default:
      return path ? { message: `The ${where} '${path}' ${error.message}`, param: path } : { message: `Invalid ${context}: ${error.message}` };
  }
}

/** What text the databases cannot store as sent. */
type Unstorable = 'nul' | 'surrogate';

/** Which of them `text` holds, if any. */
const unstorable = (text: string): Unstorable | undefined => (text.includes('\0') ? 'nul' : text.isWellFormed() ? undefined : 'surrogate');

/**
 * Where in `value` a string (or a key) holds what no database stores as sent, as a dotted path
 * like the schema errors' (`contacts.0`), and what; undefined if nowhere.
 */
function unstorableAt(value: unknown, path = ''): { at: string; what: Unstorable } | undefined {
  if (typeof value === 'string') {
    const what = unstorable(value);
    return what && { at: path, what };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const what = unstorable(key);
    if (what) return { at, what };
    const found = unstorableAt(item, at);
    if (found) return found;
  }
  return undefined;
}

/** The 400 for a NUL in `what` (a sentence's subject: "The field 'x'"); multipart fields, read by their route, get it too. */
export const nulRefused = (what: string, param?: string) => invalid(`${what} must not contain the NUL character (U+0000)`, param);

const refused = { nul: nulRefused, surrogate: (what: string, param?: string) => invalid(`${what} must not contain an unpaired surrogate (U+D800 to U+DFFF)`, param) };

/**
 * Refuses, anywhere in a request's path, query or body and before the schema, with a 400 that
 * names the field:
 * - a NUL character (U+0000). PostgreSQL's text cannot hold one (SQLite's can): a NUL reached the
 *   database, which refused the statement, and the caller got a 500 that said to try again.
 * - an unpaired surrogate (a JSON escape such as `\ud83c` alone, half of an emoji): it is no
 *   character, and no UTF-8 text can hold it. The drivers wrote it as one U+FFFD (PostgreSQL) or
 *   as three (SQLite), so the contact created was not the one read back, nor the same on both.
 * Refused on both databases, so both behave alike. (Multipart parts are decoded from UTF-8, and
 * hold no unpaired surrogate.)
 */
export function refuseUnstorable(app: FastifyInstance): void {
  const parts = [
    ['params', 'path parameter'],
    ['query', 'query parameter'],
    ['body', 'field'],
  ] as const;
  app.addHook('preValidation', async (request) => {
    for (const [part, where] of parts) {
      const found = unstorableAt(request[part]);
      if (!found) continue;
      const refuse = refused[found.what];
      throw found.at === '' ? refuse('The request body') : refuse(`The ${where} '${found.at}'`, found.at);
    }
  });
}

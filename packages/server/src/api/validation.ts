import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

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

import type { FastifyError, FastifyInstance } from 'fastify';
import { ProtocolError, type ErrorCode } from '../errors.js';
import { describeValidationError } from './validation.js';
import { isPageRequest, type PageFallback } from './routes/dashboard.js';

/** Fastify's and @fastify/multipart's own error codes, mapped onto the catalogue. */
const FRAMEWORK_ERRORS: Record<string, [ErrorCode, string?]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'Unsupported Content-Type: send application/json, application/x-www-form-urlencoded or (for uploads) multipart/form-data'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'The request body is larger than 1 MiB'],
  FST_REQ_FILE_TOO_LARGE: ['payload_too_large', 'The file is larger than the upload limit'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_request', 'The body is empty but Content-Type is application/json'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_request'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: ['unsupported_media_type', 'Uploads must be multipart/form-data'],
  FST_PARTS_LIMIT: ['payload_too_large', 'Too many parts in the upload'],
  FST_FILES_LIMIT: ['invalid_request', 'Upload exactly one file, in the field "file"'],
  FST_FIELDS_LIMIT: ['invalid_request', 'Too many fields in the upload'],
  FST_PROTO_VIOLATION: ['invalid_request', 'Forbidden field name in the upload'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid_request', 'Content-Length does not match the body'],
};

export function toProtocolError(error: FastifyError & { validation?: any[]; validationContext?: string }): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error.validation?.length) {
    const { message, param } = describeValidationError(error.validation[0], error.validationContext ?? 'body');
    return new ProtocolError('invalid_request', message, param);
  }
  const known = error.code ? FRAMEWORK_ERRORS[error.code] : undefined;
  if (known) {
    const [code, message] = known;
    return new ProtocolError(code, message ?? (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? `Malformed JSON body: ${error.message}` : error.message));
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/.test(error.message))) {
    return new ProtocolError('invalid_request', `Malformed JSON body: ${error.message}`);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    const status = error.statusCode;
    const code: ErrorCode = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 404 ? 'not_found' : 'invalid_request';
    return new ProtocolError(code, error.message);
  }
  return new ProtocolError('internal', 'Something went wrong on our side; the change was not applied. Try again.');
}

/** The one place that turns every failure into the SPEC §3 body. Internals never reach the client. */
export function installErrorHandler(app: FastifyInstance, pages?: { fallback(): PageFallback | undefined }): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = toProtocolError(error);
    if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
    if (mapped.code === 'rate_limited' && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
    return reply.status(mapped.status).send(mapped.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const fallback = pages?.fallback();
    if (fallback && isPageRequest(request)) return fallback(request, reply);
    const error = new ProtocolError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send(error.toBody());
  });
}

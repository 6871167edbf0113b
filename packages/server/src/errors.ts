/**
 * The one error catalogue. Every failure the API can answer with is named here with its
 * status; the store and the routes throw `ProtocolError`s, and the HTTP layer maps them
 * (and the framework's own errors) to the SPEC §3 body in one place (api/error-handler.ts).
 */
export const ERROR_CATALOGUE = {
  invalid_request: { status: 400, type: 'invalid_request' },
  unauthorized: { status: 401, type: 'invalid_request' },
  not_found: { status: 404, type: 'invalid_request' },
  conflict: { status: 409, type: 'invalid_request' },
  payload_too_large: { status: 413, type: 'invalid_request' },
  unsupported_media_type: { status: 415, type: 'invalid_request' },
  rate_limited: { status: 429, type: 'invalid_request' },
  internal: { status: 500, type: 'api_error' },
  unavailable: { status: 503, type: 'api_error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const DOCUMENTATION_URL = 'https://protocol.chat/docs/errors';

export class ProtocolError extends Error {
  readonly status: number;
  readonly type: 'invalid_request' | 'api_error';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.status = ERROR_CATALOGUE[code].status;
    this.type = ERROR_CATALOGUE[code].type;
  }

  toBody() {
    return {
      type: this.type,
      message: this.message,
      documentation_url: `${DOCUMENTATION_URL}#${this.code}`,
      ...(this.param ? { param: this.param } : {}),
    };
  }
}

/** The 404 every unknown id gets, whichever account it belongs to. */
export function notFound(resource: string, id: string, param?: string): ProtocolError {
  return new ProtocolError('not_found', `No such ${resource}: '${id}'`, param);
}

export function invalid(message: string, param?: string): ProtocolError {
  return new ProtocolError('invalid_request', message, param);
}

import type { ApiErrorBody } from '../resources.js';

/** Every failed call throws this: the API's error body, with the HTTP status. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  readonly status: number;
  readonly type: ApiErrorBody['type'] | 'connection_error';
  readonly param: string | undefined;
  readonly documentationUrl: string | undefined;

  constructor(status: number, body: Omit<Partial<ApiErrorBody>, 'type'> & { type?: ProtocolError['type'] }, options?: { cause?: unknown }) {
    super(body.message ?? `HTTP ${status}`, options);
    this.status = status;
    this.type = body.type ?? (status >= 500 ? 'api_error' : 'invalid_request');
    this.param = body.param;
    this.documentationUrl = body.documentation_url;
  }
}

/** The server could not be reached, or did not answer in time (status 0). */
export class ProtocolConnectionError extends ProtocolError {
  override name = 'ProtocolConnectionError';
  constructor(message: string, cause: unknown) {
    super(0, { type: 'connection_error', message }, { cause });
  }
}

export { ApiClient, type AttachmentCreateOptions, type FileInput } from './client/api-client.js';
export { ProtocolError, ProtocolConnectionError } from './client/errors.js';
export { type ClientOptions } from './client/http.js';
export { type PagePromise } from './client/pagination.js';

import type { ProtocolEvent } from '../events.js';
import type {
  AttachmentListParams,
  AttachmentUpdateParams,
  ContactCreateParams,
  ContactUpdateParams,
  ConversationCreateParams,
  ConversationListParams,
  ConversationUpdateParams,
  DeliveryListParams,
  EventListParams,
  GroupCreateParams,
  GroupListParams,
  GroupUpdateParams,
  ListParams,
  MessageListParams,
  MessageSendParams,
  MessageUpdateParams,
  WebhookCreateParams,
  WebhookTestParams,
  WebhookUpdateParams,
} from '../params.js';
import type { ApiKey, Attachment, Contact, Conversation, Delivery, DeliveryDetail, Group, Message, Page, Settings, Webhook, WebhookWithSecret } from '../resources.js';
import { HttpClient, type ClientOptions } from './http.js';
import { paginate, type PagePromise } from './pagination.js';

const enc = encodeURIComponent;

/** list / create / get / update / delete of one resource. */
function crud<T extends { id: string }, Create, Update, List extends ListParams>(http: HttpClient, path: string) {
  return {
    list: (params = {} as List): PagePromise<T> => paginate((p: List) => http.request<Page<T>>('GET', path, { query: p }), params),
    create: (params: Create): Promise<T> => http.request<T>('POST', path, { body: params }),
    get: (id: string): Promise<T> => http.request<T>('GET', `${path}/${enc(id)}`),
    update: (id: string, params: Update): Promise<T> => http.request<T>('PUT', `${path}/${enc(id)}`, { body: params }),
    delete: (id: string): Promise<void> => http.request<void>('DELETE', `${path}/${enc(id)}`),
  };
}

/** What `attachments.create` uploads: a Blob (or File), bytes, or a path on disk (Node). */
export type FileInput = Blob | Uint8Array | string;

export interface AttachmentCreateOptions {
  /** Attach it to a message now. */
  message_id?: string;
  /** The name to store; defaults to the path's base name or the File's name. */
  filename?: string;
  /** The MIME type; defaults to the Blob's type or application/octet-stream. */
  type?: string;
}

async function toBlob(file: FileInput, options: AttachmentCreateOptions): Promise<{ blob: Blob; filename: string }> {
  if (typeof file === 'string') {
    const [{ readFile }, { basename }] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    return { blob: new Blob([await readFile(file)], { type: options.type ?? 'application/octet-stream' }), filename: options.filename ?? basename(file) };
  }
  if (file instanceof Blob) {
    const named = (file as Blob & { name?: string }).name;
    return { blob: options.type ? new Blob([file], { type: options.type }) : file, filename: options.filename ?? named ?? 'file' };
  }
  return { blob: new Blob([file as Uint8Array<ArrayBuffer>], { type: options.type ?? 'application/octet-stream' }), filename: options.filename ?? 'file' };
}

/**
 * The typed Protocol API client. `new ApiClient(apiKey, { baseUrl: 'https://…/v1' })`.
 * Errors are thrown as `ProtocolError`; idempotent calls are retried on network errors, 429
 * and 5xx with backoff.
 */
export class ApiClient {
  readonly contacts;
  readonly conversations;
  readonly groups;
  readonly messages;
  readonly attachments;
  readonly events;
  readonly webhooks;
  readonly deliveries;
  readonly apiKeys;
  private readonly http: HttpClient;

  /** `token` is an API key; `null` in a browser on the dashboard's origin, which signs in with a session cookie. */
  constructor(token: string | null, options: ClientOptions = {}) {
    const http = (this.http = new HttpClient(token, options));
    this.contacts = crud<Contact, ContactCreateParams, ContactUpdateParams, ListParams>(http, '/contacts');
    this.conversations = crud<Conversation, ConversationCreateParams, ConversationUpdateParams, ConversationListParams>(http, '/conversations');
    this.groups = crud<Group, GroupCreateParams, GroupUpdateParams, GroupListParams>(http, '/groups');

    const { create: send, ...messages } = crud<Message, MessageSendParams, MessageUpdateParams, MessageListParams>(http, '/messages');
    this.messages = { ...messages, send };

    const { create: _create, ...attachments } = crud<Attachment, never, AttachmentUpdateParams, AttachmentListParams>(http, '/attachments');
    this.attachments = {
      ...attachments,
      /** Uploads a file as multipart/form-data. */
      async create(file: FileInput, options: AttachmentCreateOptions = {}): Promise<Attachment> {
        const { blob, filename } = await toBlob(file, options);
        const form = new FormData();
        if (options.message_id) form.append('message_id', options.message_id);
        form.append('file', blob, filename);
        return http.request<Attachment>('POST', '/attachments', { body: form });
      },
    };

    this.events = {
      list: (params: EventListParams = {}): PagePromise<ProtocolEvent> => paginate((p: EventListParams) => http.request<Page<ProtocolEvent>>('GET', '/events', { query: p }), params),
      get: (id: string): Promise<ProtocolEvent> => http.request<ProtocolEvent>('GET', `/events/${enc(id)}`),
    };

    const webhooks = crud<Webhook, WebhookCreateParams, WebhookUpdateParams, ListParams>(http, '/webhooks');
    this.webhooks = {
      ...webhooks,
      /** The response of create is the only one that carries the secret. */
      create: (params: WebhookCreateParams) => http.request<WebhookWithSecret>('POST', '/webhooks', { body: params }),
      secret: (id: string) => http.request<{ secret: string }>('GET', `/webhooks/${enc(id)}/secret`),
      /** A new secret; the old one keeps signing for 24 hours. */
      rotateSecret: (id: string) => http.request<{ secret: string; previous_secret_expires_at: number }>('POST', `/webhooks/${enc(id)}/rotate-secret`),
      /** Sends a signed example event now. */
      test: (id: string, params: WebhookTestParams = {}) => http.request<Delivery>('POST', `/webhooks/${enc(id)}/test`, { body: params }),
      deliveries: (id: string, params: DeliveryListParams = {}): PagePromise<Delivery> =>
        paginate((p: DeliveryListParams) => http.request<Page<Delivery>>('GET', `/webhooks/${enc(id)}/deliveries`, { query: p }), params),
      /** Re-queues failed deliveries created since `since` (Unix seconds). */
      recover: (id: string, since: number) => http.request<{ recovered: number }>('POST', `/webhooks/${enc(id)}/recover`, { body: { since } }),
    };

    this.deliveries = {
      get: (id: string) => http.request<DeliveryDetail>('GET', `/deliveries/${enc(id)}`),
      /** One more attempt now. */
      retry: (id: string) => http.request<Delivery>('POST', `/deliveries/${enc(id)}/retry`),
    };

    this.apiKeys = {
      list: () => http.request<Page<ApiKey>>('GET', '/api_keys'),
      /** The response is the only time the key itself is shown. */
      create: (name: string) => http.request<ApiKey & { key: string }>('POST', '/api_keys', { body: { name } }),
      revoke: (id: string) => http.request<void>('DELETE', `/api_keys/${enc(id)}`),
    };
  }

  /** This server's limits: how long history is kept, the rate limit, how long idempotency keys last. */
  settings(): Promise<Settings> {
    return this.http.request<Settings>('GET', '/settings');
  }

  /** The API root this client talks to. */
  get baseUrl(): string {
    return this.http.baseUrl;
  }
}

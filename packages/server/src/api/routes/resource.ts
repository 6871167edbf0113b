import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { NoContent, Page } from '../responses.js';
import { IdParams } from '../schemas.js';

/** The five operations every Protocol resource has, as the store offers them. */
export interface ResourceOperations<T> {
  list(account: string, query: any): Promise<{ has_more: boolean; data: T[] }>;
  get(account: string, id: string): Promise<T>;
  create?(account: string, body: any): Promise<T>;
  update(account: string, id: string, body: any): Promise<T>;
  delete(account: string, id: string): Promise<unknown>;
}

export interface ResourceRoutes<T> {
  /** e.g. `/contacts` */
  path: string;
  /** e.g. `contact`, for the reference's summaries. */
  noun: string;
  /** The resource as every endpoint answers it (responses.ts). */
  item: TSchema;
  operations: ResourceOperations<T>;
  listQuery: TSchema;
  createBody?: TSchema;
  updateBody: TSchema;
}

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

/**
 * `GET /<res>`, `POST /<res>`, `GET|PUT|PATCH|DELETE /<res>/:id`: the same shape for every
 * resource, so they behave alike (status codes, 404s, aliases) by construction.
 */
export function registerResource<T>(app: FastifyInstance, routes: ResourceRoutes<T>): void {
  const { path, noun, item, operations: ops } = routes;
  const a = /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
  app.get(path, { schema: { summary: `List ${noun}s`, querystring: routes.listQuery, response: { 200: Page(item) } } }, (request) => ops.list(request.account, request.query));
  if (routes.createBody && ops.create) {
    const create = ops.create.bind(ops);
    app.post(path, { schema: { summary: noun === 'message' ? 'Send a message' : `Create ${a}`, body: routes.createBody, response: { 201: item } } }, async (request, reply) => {
      reply.status(201);
      return create(request.account, request.body);
    });
  }
  app.get(`${path}/:id`, { schema: { summary: `Get ${a}`, params: IdParams, response: { 200: item } } }, (request: IdRequest) => ops.get(request.account, request.params.id));
  app.route({
    method: ['PUT', 'PATCH'],
    url: `${path}/:id`,
    schema: { summary: `Update ${a} (PATCH is an alias of PUT)`, params: IdParams, body: routes.updateBody, response: { 200: item } } as FastifySchema,
    handler: (request: IdRequest) => ops.update(request.account, request.params.id, request.body),
  });
  app.delete(`${path}/:id`, { schema: { summary: `Delete ${a}`, params: IdParams, response: { 204: NoContent } } }, async (request: IdRequest, reply: FastifyReply) => {
    await ops.delete(request.account, request.params.id);
    return reply.status(204).send();
  });
}

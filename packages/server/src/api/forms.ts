import qs from 'qs';
import type { FastifyInstance } from 'fastify';
import { markFormBody } from './validation.js';

/**
 * Form-encoded bodies with bracket nesting, so the docs' `curl -d` examples work verbatim:
 * `reactions[red_angry_face][]=Kate`, `contacts[]=id`. The strings are coerced by the route's
 * schema afterwards (see validation.ts).
 */
export function installFormParser(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    try {
      const parsed = qs.parse(body as string, { depth: 5, parameterLimit: 1000, arrayLimit: 100, allowPrototypes: false, plainObjects: false });
      done(null, markFormBody(parsed));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

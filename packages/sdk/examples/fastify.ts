// Fastify: keep JSON bodies as a Buffer for this route's scope, then verify those bytes.
import Fastify from 'fastify';
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from '@protocol/sdk';

export function webhookApp(secret: string, handle: (event: WebhookEvent) => void) {
  const app = Fastify();
  app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post('/webhooks/protocol', async (request, reply) => {
      try {
        handle(verifyWebhook(request.body as Buffer, request.headers, secret));
        return reply.status(204).send();
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        return reply.status(400).send(error.message);
      }
    });
  });
  return app;
}

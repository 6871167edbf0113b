// Hono: read the body once as text and pass the Fetch Headers straight in.
import { Hono } from 'hono';
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from '@protocol/sdk';

export function webhookApp(secret: string, handle: (event: WebhookEvent) => void) {
  const app = new Hono();
  app.post('/webhooks/protocol', async (c) => {
    try {
      handle(verifyWebhook(await c.req.text(), c.req.raw.headers, secret));
      return c.body(null, 204);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      return c.text(error.message, 400);
    }
  });
  return app;
}

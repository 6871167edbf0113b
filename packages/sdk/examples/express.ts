// Express: verify against the raw bytes, so mount express.raw on the webhook route (not express.json).
import express from 'express';
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from '@protocol/sdk';

export function webhookApp(secret: string, handle: (event: WebhookEvent) => void) {
  const app = express();
  app.post('/webhooks/protocol', express.raw({ type: 'application/json' }), (req, res) => {
    try {
      handle(verifyWebhook(req.body as Buffer, req.headers, secret));
      res.sendStatus(204);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      res.status(400).send(error.message);
    }
  });
  return app;
}

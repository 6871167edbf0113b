// Next.js App Router: app/api/webhooks/protocol/route.ts. `request.text()` is the raw body.
import { verifyWebhook, WebhookVerificationError } from '@protocol/sdk';

export async function POST(request: Request): Promise<Response> {
  try {
    const event = verifyWebhook(await request.text(), request.headers, process.env.PROTOCOL_WEBHOOK_SECRET!);
    switch (event.type) {
      case 'message.created':
        // event.payload is a Message here.
        console.log(`New message in ${event.payload.conversation_id}: ${event.payload.message}`);
        break;
      default:
        break;
    }
    return new Response(null, { status: 204 });
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    return new Response(error.message, { status: 400 });
  }
}

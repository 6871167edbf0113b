import type { WebhookEvent } from '@protocol/sdk';

/** A few words that say which object an event is about, for one-line output. */
export function summarize(event: WebhookEvent): string {
  switch (event.type.split('.')[0]) {
    case 'contact': {
      const c = event.payload as { username: string; phone_number: string };
      return `${c.username} (${c.phone_number})`;
    }
    case 'message': {
      const m = event.payload as { message: string; conversation_id: string };
      const text = m.message.length > 40 ? `${m.message.slice(0, 39)}…` : m.message;
      return `"${text}" in ${m.conversation_id}`;
    }
    case 'group':
      return (event.payload as { name: string }).name;
    case 'attachment': {
      const a = event.payload as { filename: string; file_size: number };
      return `${a.filename} (${a.file_size} bytes)`;
    }
    default: {
      const c = event.payload as { id: string; contact_id: string | null; group_id: string | null };
      return c.contact_id ? `${c.id} with contact ${c.contact_id}` : `${c.id} of group ${c.group_id}`;
    }
  }
}

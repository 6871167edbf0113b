import type { Attachment, Contact, Conversation, EventType, Group, Message, PayloadByResource, ResourceName, WebhookEvent } from '@protocol/sdk';

/**
 * The example payloads `POST /v1/webhooks/:id/test` sends: one realistic object per resource,
 * in the shape of the docs, so a receiver can be built against them before real traffic flows.
 */
const kevin = {
  id: 'WAz8eIbvDR60rouK',
  username: 'KevinMcCallister',
  phone_number: '1-800-759-3000',
  avatar_url: 'https://assets.protocol.chat/avatars/kevin.jpg',
  last_active_at: 705103200,
  created_at: 692233200,
};
const contact: Contact = { ...kevin, display_name: null, conversation_id: 'xgQQXg3hrtjh7AvZ' };
const conversation: Conversation = {
  id: 'xgQQXg3hrtjh7AvZ',
  contact_id: 'WAz8eIbvDR60rouK',
  group_id: null,
  pinned_message_id: null,
  is_pinned: false,
  is_muted: false,
  last_active_at: 705103200,
  last_opened_at: 705103200,
  created_at: 692233200,
  archived_at: null,
};
const attachment: Attachment = {
  id: 'Nc6yKKMpcxiiFxp6',
  message_id: 'SIuAFUNKdSYHZF2w',
  filename: 'Invoice_room_service__Plaza_Hotel.pdf',
  file_url: 'https://assets.protocol.chat/attachments/Invoice_room_service__Plaza_Hotel.pdf',
  file_type: 'application/pdf',
  file_size: 21352,
  created_at: 692233200,
};
const message: Message = {
  id: 'SIuAFUNKdSYHZF2w',
  conversation_id: 'xgQQXg3hrtjh7AvZ',
  contact: kevin,
  message: 'I’m traveling with my dad. He’s at a meeting. I hate meetings.',
  reactions: [],
  attachments: [],
  read_at: 705103200,
  created_at: 692233200,
  updated_at: 692233200,
};
const group: Group = {
  id: 'l7cGNIBKZiNJ6wqF',
  name: 'Plaza Hotel',
  description: 'World-renowned for its luxurious accommodations.',
  avatar_url: 'https://assets.protocol.chat/avatars/plazahotel.jpg',
  conversation_id: 'P3cFzfDdq3Qgwo2n',
  contacts: [kevin],
  created_at: 692233200,
  archived_at: null,
};

const EXAMPLES: PayloadByResource = { contact, conversation, message, group, attachment };

export function exampleEvent(type: EventType, id: string): WebhookEvent {
  const resource = type.split('.')[0] as ResourceName;
  return { id, type, payload: EXAMPLES[resource] } as WebhookEvent;
}

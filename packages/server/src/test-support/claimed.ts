import type { ClaimedDelivery } from '../store/index.js';

export const TEST_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let n = 0;
/** A claimed delivery to `url`, as the worker hands the sender one; each call has ids of its own. */
export function claimedDelivery(url: string): ClaimedDelivery {
  const i = ++n;
  return {
    id: `dlv_${i}`,
    seq: i,
    webhookSeq: 1,
    accountId: 'acc',
    eventId: `evt_${i}`,
    eventType: 'contact.created',
    webhookId: 'wh',
    url,
    body: JSON.stringify({ id: `evt_${i}`, type: 'contact.created', payload: { n: i } }),
    attempt: 1,
    finalAttempt: 8,
    secrets: [TEST_SECRET],
    protocolSecret: 'protocol-secret',
    webhookEnabled: true,
  };
}

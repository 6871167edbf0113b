import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Webhook } from '@protocol/sdk/browser';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, describeError } from '../api';
import { Badge, Button, Card, ErrorState, FieldError, Loading, SecretBox } from '../components/ui';
import { Deliveries } from './Deliveries';
import { WebhookForm } from './Webhooks';

/** One webhook: edit, enable/disable, secret, test events, deliveries and recovery. */
export function WebhookDetailPage() {
  const { id = '' } = useParams();
  const webhook = useQuery({ queryKey: ['webhook', id], queryFn: () => api.webhooks.get(id) });
  if (webhook.isPending) return <Loading label="Loading webhook…" />;
  if (webhook.isError) {
    return (
      <>
        <BackLink />
        <ErrorState error={webhook.error} retry={(webhook.error as { status?: number }).status === 404 ? undefined : () => webhook.refetch()} />
      </>
    );
  }
  return (
    <>
      <BackLink />
      <Overview webhook={webhook.data} />
      <SecretCard webhookId={id} />
      <TestEventCard webhook={webhook.data} />
      <Deliveries webhookId={id} />
    </>
  );
}

function BackLink() {
  return (
    <Link to="/webhooks" className="text-sm text-brand-700 hover:underline">
      ← All webhooks
    </Link>
  );
}

function Overview({ webhook }: { webhook: Webhook }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const refresh = (updated: Webhook) => {
    queryClient.setQueryData(['webhook', webhook.id], updated);
    return queryClient.invalidateQueries({ queryKey: ['webhooks'] });
  };
  const toggle = useMutation({ mutationFn: () => api.webhooks.update(webhook.id, { enabled: !webhook.enabled }), onSuccess: refresh });
  const remove = useMutation({
    mutationFn: () => api.webhooks.delete(webhook.id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['webhooks'] });
      navigate('/webhooks');
    },
  });
  return (
    <Card
      title={
        <span className="flex flex-wrap items-center gap-2">
          <span className="text-2xl font-semibold tracking-tight">{webhook.name}</span>
          {webhook.enabled ? <Badge tone="green">Enabled</Badge> : <Badge tone="red">Disabled</Badge>}
        </span>
      }
      actions={
        <>
          <Button onClick={() => setEditing(!editing)}>{editing ? 'Close editor' : 'Edit webhook'}</Button>
          <Button tone={webhook.enabled ? 'danger' : 'primary'} onClick={() => toggle.mutate()} disabled={toggle.isPending}>
            {webhook.enabled ? 'Disable webhook' : 'Enable webhook'}
          </Button>
          <Button tone="danger" onClick={() => window.confirm(`Delete “${webhook.name}” and its delivery history?`) && remove.mutate()} disabled={remove.isPending}>
            Delete webhook
          </Button>
        </>
      }
    >
      <dl className="grid gap-3 text-sm sm:grid-cols-[8rem_1fr]">
        <dt className="text-zinc-500">URL</dt>
        <dd className="font-mono break-all">{webhook.url}</dd>
        <dt className="text-zinc-500">Events</dt>
        <dd className="font-mono text-xs leading-6">{webhook.events.join(', ')}</dd>
        {webhook.disabled_reason && (
          <>
            <dt className="text-zinc-500">Disabled because</dt>
            <dd className="text-red-700">{webhook.disabled_reason}</dd>
          </>
        )}
      </dl>
      <FieldError message={toggle.error ? describeError(toggle.error).message : remove.error ? describeError(remove.error).message : undefined} />
      {editing && (
        <div className="mt-6 border-t border-zinc-100 pt-6">
          <WebhookForm
            initial={webhook}
            submitLabel="Save changes"
            onCancel={() => setEditing(false)}
            onSubmit={async (values) => {
              await refresh(await api.webhooks.update(webhook.id, values));
              setEditing(false);
            }}
          />
        </div>
      )}
    </Card>
  );
}

/** Hidden until revealed; rotation asks first and explains the overlap. */
function SecretCard({ webhookId }: { webhookId: string }) {
  const [revealed, setRevealed] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const reveal = useMutation({ mutationFn: () => api.webhooks.secret(webhookId), onSuccess: (r) => setRevealed(r.secret) });
  const rotate = useMutation({
    mutationFn: () => api.webhooks.rotateSecret(webhookId),
    onSuccess: (r) => {
      setRevealed(r.secret);
      setConfirming(false);
    },
  });
  return (
    <Card
      title="Signing secret"
      actions={
        <>
          {revealed ? <Button onClick={() => setRevealed(undefined)}>Hide secret</Button> : <Button onClick={() => reveal.mutate()} disabled={reveal.isPending}>Reveal secret</Button>}
          <Button tone="danger" onClick={() => setConfirming(true)} disabled={confirming}>
            Rotate secret
          </Button>
        </>
      }
    >
      <p className="text-sm text-zinc-600">Verify each request with this secret (the SDK's verifyWebhook, or any Standard Webhooks library).</p>
      {revealed ? (
        <div className="mt-3">
          <SecretBox label="Current secret" value={revealed} />
        </div>
      ) : (
        <p className="mt-3 font-mono text-sm text-zinc-400" aria-label="Secret hidden">
          whsec_••••••••••••••••••••••••
        </p>
      )}
      {confirming && (
        <div role="alertdialog" aria-labelledby="rotate-title" className="mt-4 rounded-lg bg-amber-50 p-4 ring-1 ring-amber-200">
          <p id="rotate-title" className="font-medium text-amber-900">
            Rotate the signing secret?
          </p>
          <p className="mt-1 text-sm text-amber-900">
            A new secret signs every request from now on. For the next 24 hours the old secret keeps working too: each request carries a signature for both in webhook-signature, and
            x-protocol-signature stays on the old one, so you can update your app without dropping events.
          </p>
          <div className="mt-3 flex gap-2">
            <Button tone="danger" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
              {rotate.isPending ? 'Rotating…' : 'Yes, rotate the secret'}
            </Button>
            <Button onClick={() => setConfirming(false)}>Keep the current secret</Button>
          </div>
        </div>
      )}
      <FieldError message={reveal.error ? describeError(reveal.error).message : rotate.error ? describeError(rotate.error).message : undefined} />
    </Card>
  );
}

function TestEventCard({ webhook }: { webhook: Webhook }) {
  const queryClient = useQueryClient();
  const [type, setType] = useState(webhook.events[0]!);
  const send = useMutation({
    mutationFn: () => api.webhooks.test(webhook.id, { type }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['deliveries', webhook.id] }),
  });
  return (
    <Card title="Send a test event">
      <form
        className="flex flex-wrap items-end gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          send.mutate();
        }}
      >
        <label className="text-sm font-medium text-zinc-800">
          Event type
          <select value={type} onChange={(e) => setType(e.target.value as typeof type)} className="mt-1 block rounded-md border-0 py-1.5 pr-8 pl-3 font-mono text-sm ring-1 ring-zinc-300 ring-inset">
            {(['contact', 'conversation', 'message', 'group', 'attachment'] as const).map((group) => (
              <optgroup key={group} label={group}>
                {['created', 'updated', 'deleted'].map((action) => (
                  <option key={action}>{`${group}.${action}`}</option>
                ))}
              </optgroup>
            ))}
          </select>
        </label>
        <Button type="submit" tone="primary" disabled={send.isPending}>
          Send test event
        </Button>
      </form>
      {send.isSuccess && (
        <p role="status" className="mt-2 text-sm text-emerald-800">
          Sent a signed example {send.data.event_type} event (delivery {send.data.id}).
        </p>
      )}
      <FieldError message={send.error ? describeError(send.error).message : undefined} />
    </Card>
  );
}

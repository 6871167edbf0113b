import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { EVENT_TYPES, type EventType, type Webhook, type WebhookWithSecret } from '@protocol/sdk/browser';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, describeError, formatTime } from '../api';
import { EventPicker } from '../components/EventPicker';
import { Badge, Button, Card, Empty, ErrorState, FieldError, Loading, SecretBox, TextField } from '../components/ui';

/** API settings → Webhooks: the list with health, and the create form. */
export function WebhooksPage() {
  const webhooks = useQuery({ queryKey: ['webhooks'], queryFn: () => api.webhooks.list({ limit: 100 }) });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<WebhookWithSecret>();
  return (
    <>
      <header className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Webhooks</h1>
          <p className="mt-1 text-sm text-zinc-600">Protocol sends a signed POST to each URL whenever one of its events happens, and retries until it gets a 2xx.</p>
        </div>
        {!creating && (
          <Button tone="primary" onClick={() => (setCreating(true), setCreated(undefined))}>
            Add webhook
          </Button>
        )}
      </header>
      {created && (
        <Card title={`Webhook “${created.name}” created`}>
          <SecretBox label="Signing secret" value={created.secret} note="Copy it now: it is shown once. You can reveal it again on the webhook's page." />
        </Card>
      )}
      {creating && (
        <CreateWebhookForm
          onCancel={() => setCreating(false)}
          onCreated={(webhook) => {
            setCreating(false);
            setCreated(webhook);
          }}
        />
      )}
      <Card>
        {webhooks.isPending ? (
          <Loading label="Loading webhooks…" />
        ) : webhooks.isError ? (
          <ErrorState error={webhooks.error} retry={() => webhooks.refetch()} />
        ) : webhooks.data.data.length === 0 ? (
          <Empty>No webhooks yet. Add one to receive events at your URL.</Empty>
        ) : (
          <WebhookTable webhooks={webhooks.data.data} />
        )}
      </Card>
    </>
  );
}

function health(webhook: Webhook) {
  if (!webhook.enabled) return <Badge tone="red">Disabled</Badge>;
  if (webhook.health.success_rate === null) return <Badge tone="zinc">No deliveries yet</Badge>;
  const pct = Math.round(webhook.health.success_rate * 100);
  return <Badge tone={pct >= 95 ? 'green' : pct >= 50 ? 'amber' : 'red'}>{pct}% delivered (24 h)</Badge>;
}

function WebhookTable({ webhooks }: { webhooks: Webhook[] }) {
  return (
    <div className="-mx-4 overflow-x-auto sm:mx-0">
      <table className="w-full min-w-[40rem] text-left text-sm">
        <thead className="text-xs text-zinc-500 uppercase">
          <tr>
            <th scope="col" className="px-4 py-2 font-medium sm:px-2">Name</th>
            <th scope="col" className="px-2 py-2 font-medium">Events</th>
            <th scope="col" className="px-2 py-2 font-medium">Status</th>
            <th scope="col" className="px-2 py-2 font-medium">Last delivery</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100">
          {webhooks.map((webhook) => (
            <tr key={webhook.id} className="align-top">
              <td className="px-4 py-3 sm:px-2">
                <Link to={`/webhooks/${webhook.id}`} className="font-medium text-brand-700 hover:underline">
                  {webhook.name}
                </Link>
                <p className="mt-0.5 font-mono text-xs break-all text-zinc-500">{webhook.url}</p>
              </td>
              <td className="px-2 py-3 font-mono text-xs text-zinc-700">{webhook.events.length === EVENT_TYPES.length ? 'all events' : webhook.events.join(', ')}</td>
              <td className="px-2 py-3">
                {health(webhook)}
                {webhook.disabled_reason && <p className="mt-1 max-w-56 text-xs text-red-700">{webhook.disabled_reason}</p>}
              </td>
              <td className="px-2 py-3 text-xs text-zinc-600">{formatTime(webhook.health.last_attempt_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Name, URL and events; the API's validation errors appear beside the field they concern. */
export function WebhookForm(props: {
  initial?: { name: string; url: string; events: EventType[] };
  submitLabel: string;
  onSubmit: (values: { name: string; url: string; events: EventType[] }) => Promise<unknown>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(props.initial?.name ?? '');
  const [url, setUrl] = useState(props.initial?.url ?? '');
  const [events, setEvents] = useState<EventType[]>(props.initial?.events ?? []);
  const mutation = useMutation({ mutationFn: () => props.onSubmit({ name, url, events }) });
  const error = mutation.error ? describeError(mutation.error) : undefined;
  const fieldError = (field: string) => (error?.param?.split('.')[0] === field ? error.message : undefined);
  const general = error && !['name', 'url', 'events'].includes(error.param?.split('.')[0] ?? '') ? error.message : undefined;
  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        mutation.mutate();
      }}
    >
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Name" name="name" value={name} onChange={setName} error={fieldError('name')} placeholder="Order updates" />
        <TextField label="URL" name="url" value={url} onChange={setUrl} error={fieldError('url')} placeholder="https://example.com/webhooks" hint="An absolute http(s) URL Protocol can reach." />
      </div>
      <EventPicker value={events} onChange={setEvents} error={fieldError('events')} />
      <FieldError message={general} />
      <div className="flex gap-2">
        <Button type="submit" tone="primary" disabled={mutation.isPending}>
          {mutation.isPending ? 'Saving…' : props.submitLabel}
        </Button>
        <Button onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

function CreateWebhookForm({ onCreated, onCancel }: { onCreated: (webhook: WebhookWithSecret) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  return (
    <Card title="Add a webhook">
      <WebhookForm
        submitLabel="Create webhook"
        onCancel={onCancel}
        onSubmit={async (values) => {
          const webhook = await api.webhooks.create(values);
          await queryClient.invalidateQueries({ queryKey: ['webhooks'] });
          onCreated(webhook);
        }}
      />
    </Card>
  );
}

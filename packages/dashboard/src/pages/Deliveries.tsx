import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { DeliveryStatus } from '@protocol/sdk/browser';
import { useState } from 'react';
import { api, describeError, formatTime } from '../api';
import { Pager, usePager } from '../components/Pager';
import { Badge, Button, Card, Empty, ErrorState, FieldError, JsonView, Loading, RetentionNote } from '../components/ui';

const PAGE = 20;
const STATUS_TONE = { succeeded: 'green', failed: 'red', pending: 'amber' } as const;

/** The webhook's deliveries, filtered by status and paged, each opening into its request and attempts. */
export function Deliveries({ webhookId }: { webhookId: string }) {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const { cursor, setCursor, reset } = usePager();
  const [open, setOpen] = useState<string>();
  const deliveries = useQuery({
    queryKey: ['deliveries', webhookId, status, cursor],
    queryFn: () => api.webhooks.deliveries(webhookId, { limit: PAGE, ...(status && { status }), ...cursor }),
    refetchInterval: 3000,
  });
  const data = deliveries.data?.data ?? [];
  return (
    <Card
      title="Deliveries"
      actions={
        <label className="flex items-center gap-2 text-sm text-zinc-700">
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as DeliveryStatus | '');
              reset();
            }}
            className="rounded-md border-0 py-1.5 pr-8 pl-3 text-sm ring-1 ring-zinc-300 ring-inset"
          >
            <option value="">All</option>
            <option value="pending">Pending</option>
            <option value="succeeded">Succeeded</option>
            <option value="failed">Failed</option>
          </select>
        </label>
      }
    >
      {deliveries.isPending ? (
        <Loading label="Loading deliveries…" />
      ) : deliveries.isError ? (
        <ErrorState error={deliveries.error} retry={() => deliveries.refetch()} />
      ) : null}
      {open && deliveries.data && !data.some((d) => d.id === open) && (
        // A retried delivery leaves a "failed" filter; its detail stays open to show the outcome.
        <div className="mb-4">
          <p className="text-xs text-zinc-500">Delivery {open} no longer matches this filter.</p>
          <DeliveryDetail id={open} />
        </div>
      )}
      {deliveries.isPending || deliveries.isError ? null : data.length === 0 ? (
        <Empty>{status ? `No ${status} deliveries.` : 'No deliveries yet. Send a test event, or make a change that fires one of its events.'}</Empty>
      ) : (
        <ul className="divide-y divide-zinc-100" aria-label="Deliveries">
          {data.map((delivery) => (
            <li key={delivery.id} className="py-2">
              <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
                <Badge tone={STATUS_TONE[delivery.status]}>{delivery.status}</Badge>
                <span className="font-mono text-xs">{delivery.event_type}</span>
                <span className="text-xs text-zinc-500">
                  {delivery.attempt_count} attempt{delivery.attempt_count === 1 ? '' : 's'} · {formatTime(delivery.created_at)}
                </span>
                <Button className="ml-auto" aria-expanded={open === delivery.id} onClick={() => setOpen(open === delivery.id ? undefined : delivery.id)}>
                  {open === delivery.id ? 'Hide details' : `View delivery ${delivery.id}`}
                </Button>
              </div>
              {open === delivery.id && <DeliveryDetail id={delivery.id} />}
            </li>
          ))}
        </ul>
      )}
      <Pager page={deliveries.data} cursor={cursor} setCursor={setCursor} />
      <RetentionNote what="Deliveries and their attempts" />
      <Recover webhookId={webhookId} />
    </Card>
  );
}

function DeliveryDetail({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const detail = useQuery({ queryKey: ['delivery', id], queryFn: () => api.deliveries.get(id), refetchInterval: 2000 });
  const retry = useMutation({
    mutationFn: () => api.deliveries.retry(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['delivery', id] }).then(() => queryClient.invalidateQueries({ queryKey: ['deliveries'] })),
  });
  if (detail.isPending) return <Loading label="Loading delivery…" />;
  if (detail.isError) return <ErrorState error={detail.error} retry={() => detail.refetch()} />;
  const d = detail.data;
  const lastRequest = d.attempts.at(-1)?.request_headers;
  return (
    <div className="mt-3 space-y-4 rounded-lg bg-zinc-50 p-3 ring-1 ring-zinc-200" data-testid="delivery-detail">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm">
          <span className="font-medium">POST</span> <span className="font-mono break-all">{d.request.url}</span>
        </p>
        <Button tone="primary" onClick={() => retry.mutate()} disabled={retry.isPending}>
          Retry delivery
        </Button>
      </div>
      <FieldError message={retry.error ? describeError(retry.error).message : undefined} />
      {retry.isSuccess && (
        <p role="status" className="text-sm text-emerald-800">
          Queued one more attempt.
        </p>
      )}
      <div className="grid gap-3 lg:grid-cols-2">
        <div>
          <h3 className="mb-1 text-sm font-medium">Request headers {lastRequest ? '(latest attempt)' : ''}</h3>
          {lastRequest ? <JsonView label="Request headers" value={lastRequest} /> : <p className="text-sm text-zinc-500">Not sent yet.</p>}
        </div>
        <div>
          <h3 className="mb-1 text-sm font-medium">Request body</h3>
          <JsonView label="Request body" value={d.request.body} />
        </div>
      </div>
      <div>
        <h3 className="mb-2 text-sm font-medium">Attempts</h3>
        {d.attempts.length === 0 ? (
          <p className="text-sm text-zinc-500">No attempt yet{d.next_attempt_at ? `; the next is due ${formatTime(d.next_attempt_at)}` : ''}.</p>
        ) : (
          <ol className="space-y-3">
            {d.attempts.map((attempt) => (
              <li key={attempt.id} className="rounded-lg bg-white p-3 ring-1 ring-zinc-200" data-testid="attempt">
                <p className="flex flex-wrap items-center gap-2 text-sm">
                  <span className="font-medium">Attempt {attempt.attempt}</span>
                  {attempt.status_code !== null ? (
                    <Badge tone={attempt.status_code >= 200 && attempt.status_code < 300 ? 'green' : 'red'}>HTTP {attempt.status_code}</Badge>
                  ) : (
                    <Badge tone="red">{attempt.error_stage} error</Badge>
                  )}
                  <span className="text-xs text-zinc-500">
                    {formatTime(attempt.started_at)} · {attempt.duration_ms} ms
                  </span>
                </p>
                {attempt.error && <p className="mt-1 text-sm text-red-700">{attempt.error}</p>}
                {attempt.response_headers && (
                  <details className="mt-2">
                    <summary className="cursor-pointer text-sm text-zinc-700">Response headers and body</summary>
                    <div className="mt-2 grid gap-2 lg:grid-cols-2">
                      <JsonView label="Response headers" value={attempt.response_headers} />
                      <pre aria-label="Response body" className="max-h-64 overflow-auto rounded-lg bg-white p-3 font-mono text-xs ring-1 ring-zinc-200">
                        {attempt.response_body || '(empty)'}
                      </pre>
                    </div>
                  </details>
                )}
              </li>
            ))}
          </ol>
        )}
      </div>
    </div>
  );
}

function Recover({ webhookId }: { webhookId: string }) {
  const queryClient = useQueryClient();
  const [since, setSince] = useState(() => toLocalInput(Date.now() - 86_400_000));
  const recover = useMutation({
    mutationFn: () => api.webhooks.recover(webhookId, Math.floor(new Date(since).getTime() / 1000)),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['deliveries', webhookId] }),
  });
  return (
    <form
      className="mt-6 flex flex-wrap items-end gap-2 border-t border-zinc-100 pt-4"
      onSubmit={(event) => {
        event.preventDefault();
        recover.mutate();
      }}
    >
      <label className="text-sm font-medium text-zinc-800">
        Recover failed deliveries since
        <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} className="mt-1 block rounded-md border-0 px-3 py-1.5 text-sm ring-1 ring-zinc-300 ring-inset" />
      </label>
      <Button type="submit" disabled={recover.isPending || !since}>
        Recover failed deliveries
      </Button>
      {recover.isSuccess && (
        <p role="status" className="w-full text-sm text-emerald-800">
          Re-queued {recover.data.recovered} failed deliver{recover.data.recovered === 1 ? 'y' : 'ies'}.
        </p>
      )}
      <FieldError message={recover.error ? describeError(recover.error).message : undefined} />
    </form>
  );
}

function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date().getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

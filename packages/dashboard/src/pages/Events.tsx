import { useQuery } from '@tanstack/react-query';
import { EVENT_TYPES, type EventType } from '@protocol/sdk/browser';
import { useState } from 'react';
import { api, formatTime } from '../api';
import { Pager, usePager } from '../components/Pager';
import { Button, Card, Empty, ErrorState, JsonView, Loading, RetentionNote } from '../components/ui';

const PAGE = 25;

/** The events log, newest first, filtered by type, each with its payload. */
export function EventsPage() {
  const [type, setType] = useState<EventType | ''>('');
  const { cursor, setCursor, reset } = usePager();
  const [open, setOpen] = useState<string>();
  const events = useQuery({ queryKey: ['events', type, cursor], queryFn: () => api.events.list({ limit: PAGE, ...(type && { type }), ...cursor }) });
  const data = events.data?.data ?? [];
  return (
    <>
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Events</h1>
        <p className="mt-1 text-sm text-zinc-600">Every change in your account, as your webhooks receive it.</p>
        <RetentionNote what="Events" />
      </header>
      <Card
        actions={
          <label className="flex items-center gap-2 text-sm text-zinc-700">
            Event type
            <select
              value={type}
              onChange={(e) => {
                setType(e.target.value as EventType | '');
                reset();
              }}
              className="rounded-md border-0 py-1.5 pr-8 pl-3 font-mono text-sm ring-1 ring-zinc-300 ring-inset"
            >
              <option value="">All types</option>
              {EVENT_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
        }
      >
        {events.isPending ? (
          <Loading label="Loading events…" />
        ) : events.isError ? (
          <ErrorState error={events.error} retry={() => events.refetch()} />
        ) : data.length === 0 ? (
          <Empty>{type ? `No ${type} events yet.` : 'No events yet. Create a contact or send a message through the API.'}</Empty>
        ) : (
          <ul className="divide-y divide-zinc-100" aria-label="Events">
            {data.map((event) => (
              <li key={event.id} className="py-2">
                <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
                  <span className="font-mono text-xs font-medium">{event.type}</span>
                  <span className="font-mono text-xs text-zinc-500">{event.id}</span>
                  <span className="text-xs text-zinc-500">{formatTime(event.created_at)}</span>
                  <Button className="ml-auto" aria-expanded={open === event.id} onClick={() => setOpen(open === event.id ? undefined : event.id)}>
                    {open === event.id ? 'Hide payload' : `View payload of ${event.id}`}
                  </Button>
                </div>
                {open === event.id && (
                  <div className="mt-2">
                    <JsonView label={`Payload of ${event.id}`} value={event.payload} />
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
        <Pager page={events.data} cursor={cursor} setCursor={setCursor} />
      </Card>
    </>
  );
}

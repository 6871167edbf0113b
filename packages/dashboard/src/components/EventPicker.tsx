import { EVENT_TYPES, type EventType } from '@protocol/sdk/browser';
import { FieldError } from './ui';

const GROUPS = ['contact', 'conversation', 'message', 'group', 'attachment'] as const;
const TITLES: Record<(typeof GROUPS)[number], string> = { contact: 'Contacts', conversation: 'Conversations', message: 'Messages', group: 'Groups', attachment: 'Attachments' };

/** Event checkboxes grouped by resource, each labelled with its exact name, with select-all per group. */
export function EventPicker({ value, onChange, error }: { value: EventType[]; onChange: (events: EventType[]) => void; error?: string }) {
  const toggle = (type: EventType, on: boolean) => onChange(EVENT_TYPES.filter((t) => (t === type ? on : value.includes(t))));
  return (
    <fieldset aria-describedby={error ? 'events-error' : undefined}>
      <legend className="text-sm font-medium text-zinc-800">Events to send</legend>
      <div className="mt-2 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {GROUPS.map((group) => {
          const types = EVENT_TYPES.filter((t) => t.startsWith(`${group}.`));
          const all = types.every((t) => value.includes(t));
          return (
            <div key={group} className="rounded-lg p-3 ring-1 ring-zinc-200">
              <label className="flex items-center gap-2 text-sm font-semibold text-zinc-900">
                <input
                  type="checkbox"
                  checked={all}
                  ref={(el) => {
                    if (el) el.indeterminate = !all && types.some((t) => value.includes(t));
                  }}
                  onChange={(e) => onChange(EVENT_TYPES.filter((t) => (types.includes(t) ? e.target.checked : value.includes(t))))}
                  aria-label={`Select all ${TITLES[group].toLowerCase()} events`}
                  className="size-4 accent-brand-600"
                />
                {TITLES[group]} <span className="font-normal text-zinc-500">(all)</span>
              </label>
              <ul className="mt-2 space-y-1.5 pl-1">
                {types.map((type) => (
                  <li key={type}>
                    <label className="flex items-center gap-2 font-mono text-sm text-zinc-800">
                      <input type="checkbox" checked={value.includes(type)} onChange={(e) => toggle(type, e.target.checked)} className="size-4 accent-brand-600" />
                      {type}
                    </label>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </div>
      <FieldError id="events-error" message={error} />
    </fieldset>
  );
}

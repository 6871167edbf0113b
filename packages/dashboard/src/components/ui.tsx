import { useQuery } from '@tanstack/react-query';
import { useId, useState, type ButtonHTMLAttributes, type ReactNode } from 'react';
import { api, formatDuration } from '../api';

/** Small building blocks so every page looks and behaves alike. */

type Tone = 'primary' | 'secondary' | 'danger';
const TONES: Record<Tone, string> = {
  primary: 'bg-brand-600 text-white hover:bg-brand-700 disabled:bg-brand-600/50',
  secondary: 'bg-white text-zinc-800 ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 disabled:text-zinc-400',
  danger: 'bg-white text-red-700 ring-1 ring-inset ring-red-300 hover:bg-red-50 disabled:text-red-300',
};

export function Button({ tone = 'secondary', className = '', ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { tone?: Tone }) {
  return <button type="button" className={`inline-flex items-center justify-center gap-1.5 rounded-md px-3 py-1.5 text-sm font-medium shadow-sm transition-colors disabled:cursor-not-allowed ${TONES[tone]} ${className}`} {...props} />;
}

export function Card({ title, actions, children }: { title?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-zinc-200 sm:p-6">
      {(title || actions) && (
        <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
          {title && <h2 className="text-base font-semibold text-zinc-900">{title}</h2>}
          {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

/** A labelled input with its error beside it, wired for screen readers. */
export function TextField(props: { label: string; value: string; onChange: (value: string) => void; error?: string; type?: string; placeholder?: string; hint?: string; required?: boolean; name?: string; autoComplete?: string }) {
  const id = useId();
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-zinc-800">
        {props.label}
      </label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        required={props.required}
        placeholder={props.placeholder}
        autoComplete={props.autoComplete ?? 'off'}
        aria-invalid={Boolean(props.error)}
        aria-describedby={props.error ? `${id}-error` : props.hint ? `${id}-hint` : undefined}
        onChange={(e) => props.onChange(e.target.value)}
        className={`mt-1 block w-full rounded-md border-0 px-3 py-2 text-sm shadow-sm ring-1 ring-inset focus:ring-2 focus:ring-brand-600 ${props.error ? 'ring-red-400' : 'ring-zinc-300'}`}
      />
      {props.hint && !props.error && (
        <p id={`${id}-hint`} className="mt-1 text-xs text-zinc-500">
          {props.hint}
        </p>
      )}
      <FieldError id={`${id}-error`} message={props.error} />
    </div>
  );
}

export function FieldError({ id, message }: { id?: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className="mt-1 text-sm text-red-700">
      {message}
    </p>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="py-6 text-center text-sm text-zinc-500">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="rounded-lg border border-dashed border-zinc-300 px-4 py-8 text-center text-sm text-zinc-600">{children}</div>;
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div role="alert" className="flex flex-wrap items-center justify-between gap-2 rounded-lg bg-red-50 px-4 py-3 text-sm text-red-800 ring-1 ring-red-200">
      <span>{(error as Error)?.message ?? 'Something went wrong'}</span>
      {retry && (
        <Button onClick={retry} tone="secondary">
          Try again
        </Button>
      )}
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'green' | 'red' | 'amber' | 'zinc'; children: ReactNode }) {
  const colors = { green: 'bg-emerald-50 text-emerald-800 ring-emerald-200', red: 'bg-red-50 text-red-800 ring-red-200', amber: 'bg-amber-50 text-amber-800 ring-amber-200', zinc: 'bg-zinc-100 text-zinc-700 ring-zinc-200' };
  return <span className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${colors[tone]}`}>{children}</span>;
}

/** Copies text; says so for a moment, and falls back to selecting it where the clipboard is unavailable. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      aria-label={label}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          const area = Object.assign(document.createElement('textarea'), { value: text });
          document.body.append(area);
          area.select();
          document.execCommand('copy');
          area.remove();
        }
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      }}
    >
      {copied ? 'Copied' : 'Copy'}
    </Button>
  );
}

/** A secret shown once (after create, or on reveal), with a copy button. */
export function SecretBox({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="rounded-lg bg-amber-50 p-3 ring-1 ring-amber-200">
      <p className="text-sm font-medium text-amber-900">{label}</p>
      {note && <p className="mt-1 text-xs text-amber-800">{note}</p>}
      <div className="mt-2 flex flex-wrap items-center gap-2">
        <code data-testid="secret" className="min-w-0 break-all rounded bg-white px-2 py-1 font-mono text-sm ring-1 ring-amber-200">
          {value}
        </code>
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </div>
    </div>
  );
}

export function JsonView({ value, label }: { value: unknown; label: string }) {
  const text = typeof value === 'string' ? prettyJson(value) : JSON.stringify(value, null, 2);
  return (
    <pre aria-label={label} tabIndex={0} className="max-h-96 overflow-auto rounded-lg bg-zinc-900 p-3 font-mono text-xs leading-relaxed text-zinc-100">
      {text}
    </pre>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** "History is kept for 30 days": from GET /v1/settings, so it always matches PROTOCOL_RETENTION. */
export function RetentionNote({ what }: { what: string }) {
  const settings = useQuery({ queryKey: ['settings'], queryFn: () => api.settings(), staleTime: Infinity });
  if (!settings.data) return null;
  return (
    <p className="text-xs text-zinc-500" data-testid="retention">
      {what} older than {formatDuration(settings.data.retention_seconds)} are deleted automatically.
    </p>
  );
}

import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError, signIn } from '../api';
import { Button, TextField } from '../components/ui';

/** Paste an API key; it is exchanged for an httpOnly session cookie and never kept by the page. */
export function SignInPage() {
  const queryClient = useQueryClient();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <form
        className="w-full max-w-sm space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-zinc-200"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            await signIn(key.trim());
            setKey('');
            await queryClient.invalidateQueries({ queryKey: ['session'] });
          } catch (e) {
            setError(describeError(e).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div>
          <h1 className="text-xl font-semibold tracking-tight">
            <span className="text-brand-600">●</span> Sign in to Protocol
          </h1>
          <p className="mt-1 text-sm text-zinc-600">Paste an API key of your account. `npm start` prints one on a fresh database.</p>
        </div>
        <TextField label="API key" name="api_key" type="password" value={key} onChange={setKey} error={error} required placeholder="sk_…" autoComplete="current-password" />
        <Button type="submit" tone="primary" className="w-full" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
    </main>
  );
}

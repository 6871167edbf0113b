import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, describeError, formatTime } from '../api';
import { Button, Card, Empty, ErrorState, Loading, SecretBox, TextField } from '../components/ui';

/** Create keys (shown once) and revoke them. */
export function ApiKeysPage() {
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => api.apiKeys.list() });
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; key: string }>();
  const create = useMutation({
    mutationFn: () => api.apiKeys.create(name.trim()),
    onSuccess: async (key) => {
      setCreated(key);
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api.apiKeys.revoke(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['api-keys'] }).then(() => queryClient.invalidateQueries({ queryKey: ['session'] })),
  });
  const createError = create.error ? describeError(create.error) : undefined;
  return (
    <>
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">API keys</h1>
        <p className="mt-1 text-sm text-zinc-600">Keys authenticate API calls as this account. A key is shown once, when it is created; revoking it ends its use at once.</p>
      </header>
      <Card title="Create a key">
        <form
          className="flex flex-wrap items-end gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate();
          }}
        >
          <div className="min-w-56 flex-1">
            <TextField label="Key name" name="key_name" value={name} onChange={setName} placeholder="Production server" error={createError?.message} />
          </div>
          <Button type="submit" tone="primary" disabled={create.isPending || !name.trim()}>
            Create API key
          </Button>
        </form>
        {created && (
          <div className="mt-4">
            <SecretBox label={`New API key “${created.name}”`} value={created.key} note="Copy it now: it is shown once." />
          </div>
        )}
      </Card>
      <Card title="Active keys">
        {keys.isPending ? (
          <Loading label="Loading API keys…" />
        ) : keys.isError ? (
          <ErrorState error={keys.error} retry={() => keys.refetch()} />
        ) : keys.data.data.length === 0 ? (
          <Empty>No active keys.</Empty>
        ) : (
          <ul className="divide-y divide-zinc-100" aria-label="API keys">
            {keys.data.data.map((key) => (
              <li key={key.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 py-2 text-sm">
                <span className="font-medium">{key.name}</span>
                <span className="font-mono text-xs text-zinc-500">…{key.hint}</span>
                <span className="text-xs text-zinc-500">created {formatTime(key.created_at)}</span>
                <Button tone="danger" className="ml-auto" onClick={() => window.confirm(`Revoke “${key.name}”? Anything using it stops working.`) && revoke.mutate(key.id)} disabled={revoke.isPending}>
                  Revoke {key.name}
                </Button>
              </li>
            ))}
          </ul>
        )}
        {revoke.error && <ErrorState error={revoke.error} />}
      </Card>
    </>
  );
}

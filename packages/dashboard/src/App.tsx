import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Navigate, NavLink, Route, Routes } from 'react-router-dom';
import { getSession, signOut } from './api';
import { Button, ErrorState, Loading } from './components/ui';
import { ApiKeysPage } from './pages/ApiKeys';
import { EventsPage } from './pages/Events';
import { SignInPage } from './pages/SignIn';
import { WebhookDetailPage } from './pages/WebhookDetail';
import { WebhooksPage } from './pages/Webhooks';

/** Every page sits behind the session check: without one, sign-in is what shows. */
export function App() {
  const session = useQuery({ queryKey: ['session'], queryFn: getSession, retry: false });
  if (session.isPending) return <Loading label="Loading Protocol…" />;
  if (session.isError) {
    const status = (session.error as { status?: number }).status;
    if (status === 401) return <SignInPage />;
    return (
      <main className="mx-auto max-w-md p-6">
        <ErrorState error={session.error} retry={() => session.refetch()} />
      </main>
    );
  }
  return (
    <Layout accountName={session.data.account.name}>
      <Routes>
        <Route path="/" element={<Navigate to="/webhooks" replace />} />
        <Route path="/webhooks" element={<WebhooksPage />} />
        <Route path="/webhooks/:id" element={<WebhookDetailPage />} />
        <Route path="/events" element={<EventsPage />} />
        <Route path="/api-keys" element={<ApiKeysPage />} />
        <Route path="*" element={<p className="text-sm text-zinc-600">This page does not exist.</p>} />
      </Routes>
    </Layout>
  );
}

const NAV = [
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/events', label: 'Events' },
  { to: '/api-keys', label: 'API keys' },
];

function Layout({ accountName, children }: { accountName: string; children: React.ReactNode }) {
  const queryClient = useQueryClient();
  return (
    <div className="min-h-screen md:flex">
      <aside className="border-b border-zinc-200 bg-white md:w-60 md:shrink-0 md:border-r md:border-b-0">
        <div className="flex items-center justify-between gap-2 px-4 py-4 md:block">
          <div>
            <p className="text-lg font-semibold tracking-tight">
              <span className="text-brand-600">●</span> Protocol
            </p>
            <p className="text-xs text-zinc-500">{accountName}</p>
          </div>
          <Button
            className="md:mt-4"
            onClick={async () => {
              await signOut().catch(() => {});
              // Forget the account's data, then ask again who is signed in: nobody, so sign-in shows.
              queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'session' });
              await queryClient.resetQueries({ queryKey: ['session'] });
            }}
          >
            Sign out
          </Button>
        </div>
        <nav aria-label="API settings" className="px-2 pb-3">
          <p className="hidden px-2 pb-1 text-xs font-semibold tracking-wide text-zinc-500 uppercase md:block">API settings</p>
          <ul className="flex gap-1 overflow-x-auto md:block md:space-y-0.5">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} className={({ isActive }) => `block rounded-md px-3 py-1.5 text-sm whitespace-nowrap ${isActive ? 'bg-brand-50 font-medium text-brand-700' : 'text-zinc-700 hover:bg-zinc-100'}`}>
                  {item.label}
                </NavLink>
              </li>
            ))}
            <li>
              {/* Served by the API server itself (Swagger UI over /v1/openapi.json), outside this app. */}
              <a href="/docs" className="block rounded-md px-3 py-1.5 text-sm whitespace-nowrap text-zinc-700 hover:bg-zinc-100">
                API reference
              </a>
            </li>
          </ul>
        </nav>
      </aside>
      <main className="mx-auto w-full max-w-5xl min-w-0 flex-1 space-y-6 p-4 sm:p-8">{children}</main>
    </div>
  );
}

import { lazy, Suspense } from 'react';
import { createBrowserRouter, Navigate, Outlet, useRouteError } from 'react-router';
import { Button } from './components/Button.tsx';
import { FullPageLoading, FullPageMessage } from './components/FullPage.tsx';
import { AppShell } from './modules/layout/AppShell.tsx';
import { RequireAuth } from './modules/session/RequireAuth.tsx';
import { SessionProvider } from './modules/session/SessionProvider.tsx';
import { WorkspaceSwitcher } from './modules/workspaces/WorkspaceSwitcher.tsx';
import { AdminUsersPage } from './pages/AdminUsersPage/AdminUsersPage.tsx';
import { AuditPage } from './pages/AuditPage/AuditPage.tsx';
import { DashboardPage } from './pages/DashboardPage/DashboardPage.tsx';
import { InvitePage } from './pages/InvitePage/InvitePage.tsx';
import { NotFoundPage } from './pages/NotFoundPage/NotFoundPage.tsx';
import { SettingsPage } from './pages/SettingsPage/SettingsPage.tsx';
import { SetupPage } from './pages/SetupPage/SetupPage.tsx';
import { SignInPage } from './pages/SignInPage/SignInPage.tsx';

// The IDE (Monaco, xterm.js, panels) loads on first visit, so the dashboard stays small.
const IdePage = lazy(() =>
  import('./pages/IdePage/IdePage.tsx').then((module) => ({ default: module.IdePage })),
);

function RouteError() {
  const error = useRouteError();
  console.error(error);
  return (
    <FullPageMessage
      title="Something went wrong"
      action={
        <Button variant="primary" onClick={() => window.location.reload()}>
          Reload the page
        </Button>
      }
    >
      This is a bug in Prometheus Studio. Reloading usually helps; if it keeps happening, the
      browser console has the details.
    </FullPageMessage>
  );
}

/** Every route of the web app. */
export function createRouter() {
  return createBrowserRouter([
    {
      element: (
        <SessionProvider>
          <Outlet />
        </SessionProvider>
      ),
      errorElement: <RouteError />,
      children: [
        { path: '/setup', element: <SetupPage /> },
        { path: '/sign-in', element: <SignInPage /> },
        { path: '/invite/:token', element: <InvitePage /> },
        {
          element: (
            <RequireAuth>
              <WorkspaceSwitcher>
                <Outlet />
              </WorkspaceSwitcher>
            </RequireAuth>
          ),
          children: [
            {
              // Full-screen, outside the app shell: the IDE has its own header.
              path: '/w/:name',
              element: (
                <Suspense fallback={<FullPageLoading label="Opening the workspace…" />}>
                  <IdePage />
                </Suspense>
              ),
            },
            {
              element: <AppShell />,
              children: [
                { index: true, element: <DashboardPage /> },
                { path: 'settings', element: <SettingsPage /> },
                { path: 'admin', element: <Navigate to="/admin/users" replace /> },
                { path: 'admin/users', element: <AdminUsersPage /> },
                { path: 'audit', element: <AuditPage /> },
                { path: '*', element: <NotFoundPage /> },
              ],
            },
          ],
        },
      ],
    },
  ]);
}

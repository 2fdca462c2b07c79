import { lazy, Suspense, type ReactNode } from 'react';
import { createBrowserRouter, Navigate, Outlet, useRouteError } from 'react-router';
import { Button } from './components/Button.tsx';
import { FullPageLoading, FullPageMessage } from './components/FullPage.tsx';
import { AppShell, type ShellHandle } from './modules/layout/AppShell.tsx';
import { RequireAuth } from './modules/session/RequireAuth.tsx';
import { SessionProvider } from './modules/session/SessionProvider.tsx';
import { WorkspaceSwitcher } from './modules/workspaces/WorkspaceSwitcher.tsx';
import { DashboardPage } from './pages/DashboardPage/DashboardPage.tsx';
import { InvitePage } from './pages/InvitePage/InvitePage.tsx';
import { NotFoundPage } from './pages/NotFoundPage/NotFoundPage.tsx';
import { SetupPage } from './pages/SetupPage/SetupPage.tsx';
import { SignInPage } from './pages/SignInPage/SignInPage.tsx';

// The IDE (Monaco, xterm.js, panels) loads on first visit, so the dashboard stays small.
const IdePage = lazy(() =>
  import('./pages/IdePage/IdePage.tsx').then((module) => ({ default: module.IdePage })),
);

// Pages off the way to the editor load when visited, so opening a workspace fetches less first.
const SettingsPage = lazy(() =>
  import('./pages/SettingsPage/SettingsPage.tsx').then((module) => ({
    default: module.SettingsPage,
  })),
);
const AdminUsagePage = lazy(() =>
  import('./pages/AdminUsagePage/AdminUsagePage.tsx').then((module) => ({
    default: module.AdminUsagePage,
  })),
);
const AdminTemplatesPage = lazy(() =>
  import('./pages/AdminTemplatesPage/AdminTemplatesPage.tsx').then((module) => ({
    default: module.AdminTemplatesPage,
  })),
);
const AdminBackupsPage = lazy(() =>
  import('./pages/AdminBackupsPage/AdminBackupsPage.tsx').then((module) => ({
    default: module.AdminBackupsPage,
  })),
);
const AdminUsersPage = lazy(() =>
  import('./pages/AdminUsersPage/AdminUsersPage.tsx').then((module) => ({
    default: module.AdminUsersPage,
  })),
);
const AuditPage = lazy(() =>
  import('./pages/AuditPage/AuditPage.tsx').then((module) => ({ default: module.AuditPage })),
);
// Brings the assistant and, once a desktop is shown, noVNC.
const MissionControlPage = lazy(() =>
  import('./pages/MissionControlPage/MissionControlPage.tsx').then((module) => ({
    default: module.MissionControlPage,
  })),
);

/** A page loaded on first visit, with the app shell around it already shown. */
function Later({ children }: { children: ReactNode }) {
  return <Suspense fallback={<FullPageLoading label="Loading…" />}>{children}</Suspense>;
}

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
                {
                  path: 'missions/:id?',
                  // Three columns edge to edge, as tall as the window.
                  handle: { fullBleed: true } satisfies ShellHandle,
                  element: (
                    <Later>
                      <MissionControlPage />
                    </Later>
                  ),
                },
                {
                  path: 'settings',
                  element: (
                    <Later>
                      <SettingsPage />
                    </Later>
                  ),
                },
                { path: 'admin', element: <Navigate to="/admin/users" replace /> },
                {
                  path: 'admin/users',
                  element: (
                    <Later>
                      <AdminUsersPage />
                    </Later>
                  ),
                },
                {
                  path: 'admin/usage',
                  element: (
                    <Later>
                      <AdminUsagePage />
                    </Later>
                  ),
                },
                {
                  path: 'admin/templates',
                  element: (
                    <Later>
                      <AdminTemplatesPage />
                    </Later>
                  ),
                },
                {
                  path: 'admin/backups',
                  element: (
                    <Later>
                      <AdminBackupsPage />
                    </Later>
                  ),
                },
                {
                  path: 'audit',
                  element: (
                    <Later>
                      <AuditPage />
                    </Later>
                  ),
                },
                { path: '*', element: <NotFoundPage /> },
              ],
            },
          ],
        },
      ],
    },
  ]);
}

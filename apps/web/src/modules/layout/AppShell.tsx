import { Link, NavLink, Outlet, useMatches } from 'react-router';
import { LogoMark } from '../../components/icons.tsx';
import { useCurrentUser } from '../session/SessionProvider.tsx';
import { ThemeToggle } from '../theme/ThemeToggle.tsx';
import { UserMenu } from './UserMenu.tsx';

function navClasses({ isActive }: { isActive: boolean }) {
  return `relative flex h-14 items-center px-1 text-sm font-medium transition-colors ${
    isActive
      ? 'text-fg after:absolute after:inset-x-0 after:bottom-0 after:h-0.5 after:rounded-full after:bg-accent'
      : 'text-muted hover:text-fg'
  }`;
}

/** What a route inside the shell may set as its `handle`. */
export interface ShellHandle {
  /** The page uses the whole width and height below the header, without the page margins. */
  fullBleed?: boolean;
}

/** The signed-in frame: header with product name, navigation and account menu, then the page. */
export function AppShell() {
  const user = useCurrentUser();
  const fullBleed = useMatches().some(
    (match) => (match.handle as ShellHandle | undefined)?.fullBleed,
  );
  return (
    <div className="flex min-h-full flex-col">
      <a
        href="#main"
        className="sr-only rounded-md bg-surface px-3 py-2 text-sm focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-line bg-surface/90 backdrop-blur">
        <div
          className={`mx-auto flex h-14 items-center gap-8 px-6 ${fullBleed ? '' : 'max-w-6xl'}`}
        >
          <Link to="/" className="flex items-center gap-2.5 text-fg">
            <LogoMark className="size-7" />
            <span className="text-[15px] font-semibold tracking-tight">Prometheus Studio</span>
          </Link>
          <nav aria-label="Main" className="flex items-center gap-6">
            <NavLink to="/" end className={navClasses}>
              Dashboard
            </NavLink>
            <NavLink to="/missions" className={navClasses}>
              Mission control
            </NavLink>
            <NavLink to="/settings" className={navClasses}>
              Settings
            </NavLink>
            {user.role === 'admin' ? (
              <NavLink to="/admin/users" className={navClasses}>
                Admin
              </NavLink>
            ) : null}
          </nav>
          <div className="ml-auto flex items-center gap-2">
            <ThemeToggle />
            <UserMenu />
          </div>
        </div>
      </header>
      <main
        id="main"
        className={
          fullBleed ? 'flex w-full flex-1 flex-col' : 'mx-auto w-full max-w-6xl flex-1 px-6 py-8'
        }
      >
        <Outlet />
      </main>
    </div>
  );
}

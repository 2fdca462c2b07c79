import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import { Badge } from '../../components/Badge.tsx';
import { ChevronDownIcon } from '../../components/icons.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { useCurrentUser, useSession } from '../session/SessionProvider.tsx';

/** Initials for the avatar: first letters of the first two words of the name. */
function initials(name: string): string {
  const letters = name
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .map((word) => word[0] ?? '')
    .join('');
  return letters.toUpperCase() || '?';
}

/** The avatar button in the header and its panel: who you are, settings, audit log, sign out. */
export function UserMenu() {
  const user = useCurrentUser();
  const { signOut } = useSession();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [pending, setPending] = useState(false);
  const panelId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    document.addEventListener('pointerdown', onPointerDown);
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown);
      document.removeEventListener('keydown', onKeyDown);
    };
  }, [open]);

  return (
    <div ref={rootRef} className="relative">
      <button
        ref={buttonRef}
        type="button"
        aria-label="Account menu"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
        className="flex items-center gap-2 rounded-md py-1 pr-1.5 pl-1 text-sm text-fg hover:bg-subtle"
      >
        <span
          aria-hidden="true"
          className="flex size-7 items-center justify-center rounded-full bg-accent-soft text-xs font-semibold text-accent"
        >
          {initials(user.name)}
        </span>
        <span className="max-w-40 truncate font-medium">{user.name}</span>
        <ChevronDownIcon className="size-4 text-muted" />
      </button>
      <div
        id={panelId}
        hidden={!open}
        className="absolute top-full right-0 z-40 mt-2 w-64 overflow-hidden rounded-lg border border-line bg-surface shadow-lg"
      >
        <div className="border-b border-line px-4 py-3">
          <div className="flex items-center justify-between gap-2">
            <p className="truncate text-sm font-medium text-fg">{user.name}</p>
            {user.role === 'admin' ? <Badge tone="accent">Admin</Badge> : null}
          </div>
          <p className="truncate text-[13px] text-muted">{user.email}</p>
        </div>
        <div className="p-1.5">
          <Link
            to="/settings"
            onClick={() => setOpen(false)}
            className="block rounded-md px-2.5 py-1.5 text-sm text-fg hover:bg-subtle"
          >
            Account settings
          </Link>
          <Link
            to="/audit"
            onClick={() => setOpen(false)}
            className="block rounded-md px-2.5 py-1.5 text-sm text-fg hover:bg-subtle"
          >
            Audit log
          </Link>
          <button
            type="button"
            disabled={pending}
            onClick={async () => {
              setPending(true);
              try {
                await signOut();
              } catch (error) {
                toast(error instanceof Error ? error.message : 'Could not sign out.', 'error');
                setPending(false);
              }
            }}
            className="block w-full rounded-md px-2.5 py-1.5 text-left text-sm text-fg hover:bg-subtle disabled:opacity-60"
          >
            Sign out
          </button>
        </div>
      </div>
    </div>
  );
}

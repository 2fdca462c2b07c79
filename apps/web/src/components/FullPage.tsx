import type { ReactNode } from 'react';
import { Spinner } from './Spinner.tsx';
import { LogoMark } from './icons.tsx';

/** A whole-screen loading state, used before we know who is signed in. */
export function FullPageLoading({ label = 'Loading Prometheus Studio…' }: { label?: string }) {
  return (
    <div role="status" className="flex h-full items-center justify-center gap-3 text-sm text-muted">
      <Spinner />
      {label}
    </div>
  );
}

/** A whole-screen message with a heading, for states where nothing else can be shown. */
export function FullPageMessage({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <main className="flex h-full flex-col items-center justify-center px-6 text-center">
      <LogoMark className="mb-6 size-10" />
      <h1 className="text-xl font-semibold text-fg">{title}</h1>
      {children ? <div className="mt-2 max-w-md text-sm text-muted">{children}</div> : null}
      {action ? <div className="mt-6">{action}</div> : null}
    </main>
  );
}

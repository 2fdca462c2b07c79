import type { ReactNode } from 'react';
import { LogoMark } from '../../components/icons.tsx';
import { ThemeToggle } from '../theme/ThemeToggle.tsx';

/** The frame for sign-in, setup and invite pages: a centred card under the product name. */
export function AuthLayout({
  title,
  description,
  children,
  footer,
}: {
  title: string;
  description?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <div className="flex min-h-full flex-col">
      <header className="flex h-14 items-center justify-between px-6">
        <div className="flex items-center gap-2.5 text-fg">
          <LogoMark className="size-7" />
          <span className="text-[15px] font-semibold tracking-tight">Prometheus Studio</span>
        </div>
        <ThemeToggle />
      </header>
      <main className="flex flex-1 items-start justify-center px-6 pt-[8vh] pb-16">
        <div className="w-full max-w-sm">
          <div className="mb-6 space-y-1.5 text-center">
            <h1 className="text-2xl font-semibold tracking-tight text-fg">{title}</h1>
            {description ? <div className="text-sm text-muted">{description}</div> : null}
          </div>
          <div className="rounded-xl border border-line bg-surface p-6 shadow-sm">{children}</div>
          {footer ? <div className="mt-6 text-center text-sm text-muted">{footer}</div> : null}
        </div>
      </main>
    </div>
  );
}

import type { ReactNode } from 'react';
import { AlertIcon, CheckIcon, InfoIcon } from './icons.tsx';

/** The meaning of an alert. */
export type AlertTone = 'error' | 'info' | 'success' | 'warning';

const TONES: Record<AlertTone, string> = {
  error: 'border-danger/30 bg-danger-soft text-danger',
  info: 'border-line bg-subtle text-fg',
  success: 'border-success/30 bg-success-soft text-success',
  warning: 'border-warning/30 bg-warning-soft text-warning',
};

/** An inline message box; errors are announced immediately, the rest politely. */
export function Alert({
  tone = 'info',
  title,
  children,
  className = '',
}: {
  tone?: AlertTone;
  title?: ReactNode;
  children?: ReactNode;
  className?: string;
}) {
  const Icon =
    tone === 'error' || tone === 'warning' ? AlertIcon : tone === 'success' ? CheckIcon : InfoIcon;
  return (
    <div
      role={tone === 'error' ? 'alert' : 'status'}
      className={`flex gap-2.5 rounded-md border px-3 py-2.5 text-sm ${TONES[tone]} ${className}`}
    >
      <Icon className="mt-0.5 size-4 shrink-0" />
      <div className="min-w-0 space-y-1">
        {title ? <p className="font-medium">{title}</p> : null}
        {children ? <div className={title ? 'text-fg/80' : ''}>{children}</div> : null}
      </div>
    </div>
  );
}

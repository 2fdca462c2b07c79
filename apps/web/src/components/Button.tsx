import type { ComponentProps } from 'react';
import { Spinner } from './Spinner.tsx';

/** How a button looks. */
export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

const VARIANTS: Record<ButtonVariant, string> = {
  primary:
    'bg-accent text-accent-fg hover:bg-accent-hover border-transparent shadow-sm disabled:hover:bg-accent',
  secondary: 'bg-surface text-fg border-line-strong hover:bg-subtle shadow-xs',
  danger:
    'bg-surface text-danger border-line-strong hover:bg-danger-soft hover:border-danger/40 shadow-xs',
  ghost: 'bg-transparent text-fg border-transparent hover:bg-subtle',
};

const SIZES = {
  sm: 'h-8 px-3 text-[13px] gap-1.5',
  md: 'h-9 px-3.5 text-sm gap-2',
};

/** Classes for anything that should look like a button (also used by links). */
export function buttonClasses(variant: ButtonVariant = 'secondary', size: 'sm' | 'md' = 'md') {
  return `inline-flex shrink-0 items-center justify-center rounded-md border font-medium whitespace-nowrap transition-colors disabled:cursor-not-allowed disabled:opacity-55 ${VARIANTS[variant]} ${SIZES[size]}`;
}

/** A button; `pending` shows a spinner and blocks clicks while keeping the label (and so its name). */
export function Button({
  variant = 'secondary',
  size = 'md',
  pending = false,
  type = 'button',
  className = '',
  disabled,
  children,
  ...props
}: ComponentProps<'button'> & {
  variant?: ButtonVariant;
  size?: 'sm' | 'md';
  pending?: boolean;
}) {
  return (
    <button
      type={type}
      className={`${buttonClasses(variant, size)} ${className}`}
      disabled={disabled || pending}
      aria-busy={pending || undefined}
      {...props}
    >
      {pending ? <Spinner className="size-3.5" /> : null}
      {children}
    </button>
  );
}

import type { ReactNode } from 'react';

/** Classes of a small square toolbar button, also used by links that look like one. */
export function iconButtonClasses(size: 'sm' | 'md' = 'md'): string {
  return `inline-flex shrink-0 items-center justify-center rounded text-muted hover:bg-line/60 hover:text-fg ${
    size === 'sm' ? 'size-6 text-[14px]' : 'size-7'
  }`;
}

/** A toolbar button that shows an icon; its label is its accessible name and its tooltip. */
export function IconButton({
  label,
  onClick,
  size = 'md',
  children,
}: {
  label: string;
  onClick: () => void;
  size?: 'sm' | 'md';
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      onClick={onClick}
      className={iconButtonClasses(size)}
    >
      {children}
    </button>
  );
}

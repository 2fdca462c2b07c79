import { useId, type ComponentProps, type ReactNode } from 'react';
import { ChevronDownIcon } from './icons.tsx';

const CONTROL =
  'block rounded-md border bg-surface px-3 text-sm text-fg shadow-xs transition-colors placeholder:text-muted/70 read-only:bg-subtle disabled:cursor-not-allowed disabled:opacity-60 focus:outline-none focus-visible:outline-2 focus-visible:outline-offset-0 focus-visible:outline-accent';

function controlClasses(error: string | undefined) {
  return `${CONTROL} ${error ? 'border-danger' : 'border-line-strong'}`;
}

function SelectChevron() {
  return (
    <ChevronDownIcon className="pointer-events-none absolute top-1/2 right-2.5 size-4 -translate-y-1/2 text-muted" />
  );
}

interface FieldFrameProps {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  error?: string;
  children: ReactNode;
  className?: string;
}

function FieldFrame({ id, label, hint, error, children, className = '' }: FieldFrameProps) {
  return (
    <div className={`flex flex-col gap-1.5 ${className}`}>
      <label htmlFor={id} className="text-[13px] font-medium text-fg">
        {label}
      </label>
      {children}
      {error ? (
        <p id={`${id}-error`} className="text-[13px] text-danger">
          {error}
        </p>
      ) : hint ? (
        <p id={`${id}-hint`} className="text-[13px] text-muted">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, hint: ReactNode, error: string | undefined) {
  if (error) return `${id}-error`;
  if (hint) return `${id}-hint`;
  return undefined;
}

type TextFieldProps = Omit<ComponentProps<'input'>, 'id'> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string;
  fieldClassName?: string;
};

/** A labelled text input with a hint or an error message under it. */
export function TextField({
  label,
  hint,
  error,
  fieldClassName,
  className = '',
  ...props
}: TextFieldProps) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} className={fieldClassName}>
      <input
        id={id}
        className={`${controlClasses(error)} h-9 w-full ${className}`}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...props}
      />
    </FieldFrame>
  );
}

type SelectFieldProps = Omit<ComponentProps<'select'>, 'id'> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string;
  fieldClassName?: string;
};

/** A labelled native select. */
export function SelectField({
  label,
  hint,
  error,
  fieldClassName,
  className = '',
  children,
  ...props
}: SelectFieldProps) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} className={fieldClassName}>
      <div className="relative">
        <select
          id={id}
          className={`${controlClasses(error)} h-9 w-full appearance-none pr-8 ${className}`}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, hint, error)}
          {...props}
        >
          {children}
        </select>
        <SelectChevron />
      </div>
    </FieldFrame>
  );
}

/** A bare select for tables, where the accessible name comes from `aria-label`. */
export function InlineSelect({ className = '', ...props }: ComponentProps<'select'>) {
  return (
    <div className="relative inline-block">
      <select
        className={`${controlClasses(undefined)} h-8 appearance-none pr-8 text-[13px] ${className}`}
        {...props}
      />
      <SelectChevron />
    </div>
  );
}

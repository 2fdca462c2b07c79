import { useRef, useState } from 'react';

/**
 * A name typed in place in the tree, as VS Code does it: Enter (or leaving the field) commits,
 * Escape cancels. A refusal (the name is taken, …) keeps the field open under the server's reason;
 * leaving the field then cancels. The name is selected without its extension.
 */
export function InlineName({
  label,
  initial = '',
  onSubmit,
  onCancel,
}: {
  label: string;
  initial?: string;
  onSubmit: (name: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const finished = useRef(false);

  const finish = (then: () => void) => {
    if (finished.current) return;
    finished.current = true;
    then();
  };

  const commit = async () => {
    if (pending || finished.current) return;
    const trimmed = name.trim();
    if (trimmed === '' || trimmed === initial) return finish(onCancel);
    if (trimmed.includes('/') || trimmed === '.' || trimmed === '..') {
      setError('Enter a name without slashes.');
      return;
    }
    setPending(true);
    try {
      await onSubmit(trimmed);
      finished.current = true;
    } catch (failure) {
      setError((failure as Error).message);
      setPending(false);
    }
  };

  return (
    <span className="relative min-w-0 flex-1">
      <input
        aria-label={label}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'tree-name-error' : undefined}
        value={name}
        autoFocus
        spellCheck={false}
        readOnly={pending}
        onChange={(event) => {
          setName(event.target.value);
          setError(null);
        }}
        onFocus={(event) => {
          const dot = event.target.value.lastIndexOf('.');
          event.target.setSelectionRange(0, dot > 0 ? dot : event.target.value.length);
        }}
        onBlur={() => (error ? finish(onCancel) : void commit())}
        onClick={(event) => event.stopPropagation()}
        onKeyDown={(event) => {
          // The tree's own keys (arrows, Enter, F2, Delete) stay in the field.
          event.stopPropagation();
          if (event.key === 'Enter') {
            event.preventDefault();
            void commit();
          } else if (event.key === 'Escape') {
            event.preventDefault();
            finish(onCancel);
          }
        }}
        className={`h-6 w-full rounded-sm border bg-surface px-1 text-[13px] text-fg outline-none ${
          error ? 'border-danger' : 'border-accent'
        }`}
      />
      {error ? (
        <span
          id="tree-name-error"
          role="alert"
          className="absolute top-full right-0 left-0 z-10 border border-danger bg-danger-soft px-1.5 py-1 text-[12px] whitespace-normal text-danger"
        >
          {error}
        </span>
      ) : null}
    </span>
  );
}

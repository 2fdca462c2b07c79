import { useEffect, useId, useRef, useState } from 'react';
import { CheckIcon, CopyIcon } from './icons.tsx';

async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    // navigator.clipboard only exists in secure contexts (https or localhost).
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission denied: try the selection fallback below.
  }
  if (!fallbackInput) return false;
  fallbackInput.focus();
  fallbackInput.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** A read-only value (a secret, a link) with a copy button whose name stays `copyLabel`. */
export function CopyField({
  label,
  value,
  copyLabel,
  monospace = true,
}: {
  label: string;
  value: string;
  copyLabel: string;
  monospace?: boolean;
}) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    if (status === 'idle') return;
    const timer = window.setTimeout(() => setStatus('idle'), 2500);
    return () => window.clearTimeout(timer);
  }, [status]);

  return (
    <div className="flex flex-col gap-1.5">
      <label htmlFor={id} className="text-[13px] font-medium text-fg">
        {label}
      </label>
      <div className="flex gap-2">
        <input
          ref={inputRef}
          id={id}
          readOnly
          value={value}
          onFocus={(event) => event.currentTarget.select()}
          className={`h-9 min-w-0 flex-1 rounded-md border border-line-strong bg-subtle px-3 text-sm text-fg ${monospace ? 'font-mono text-[13px]' : ''}`}
        />
        <button
          type="button"
          aria-label={copyLabel}
          onClick={async () =>
            setStatus((await copyText(value, inputRef.current)) ? 'copied' : 'failed')
          }
          className="inline-flex h-9 shrink-0 items-center gap-1.5 rounded-md border border-line-strong bg-surface px-3 text-sm font-medium text-fg shadow-xs hover:bg-subtle"
        >
          {status === 'copied' ? (
            <CheckIcon className="size-4 text-success" />
          ) : (
            <CopyIcon className="size-4" />
          )}
          <span aria-hidden="true">{status === 'copied' ? 'Copied' : 'Copy'}</span>
        </button>
      </div>
      <p role="status" className={status === 'failed' ? 'text-[13px] text-muted' : 'sr-only'}>
        {status === 'copied'
          ? 'Copied to the clipboard.'
          : status === 'failed'
            ? 'Could not copy automatically — the text is selected, press Ctrl+C (⌘C on a Mac).'
            : ''}
      </p>
    </div>
  );
}

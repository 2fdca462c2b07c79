import { useState, type FormEvent } from 'react';
import { Button } from '../../../components/Button.tsx';
import { Dialog } from '../../../components/Dialog.tsx';
import { TextField } from '../../../components/Field.tsx';

/** Ask for a file or folder name; the dialog stays open with the server's reason on failure. */
export function NameDialog({
  title,
  description,
  initial = '',
  submitLabel,
  onSubmit,
  onClose,
}: {
  title: string;
  description?: string;
  initial?: string;
  submitLabel: string;
  onSubmit: (name: string) => Promise<void>;
  onClose: () => void;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | undefined>();
  const [pending, setPending] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed || trimmed.includes('/') || trimmed === '.' || trimmed === '..') {
      setError('Enter a name without slashes.');
      return;
    }
    setPending(true);
    try {
      await onSubmit(trimmed);
      onClose();
    } catch (failure) {
      setError((failure as Error).message);
      setPending(false);
    }
  };

  return (
    <Dialog open onClose={onClose} title={title} description={description}>
      <form onSubmit={(event) => void submit(event)} className="space-y-6 pb-6">
        <TextField
          label="Name"
          value={name}
          autoFocus
          spellCheck={false}
          error={error}
          onChange={(event) => setName(event.target.value)}
          onFocus={(event) => {
            // Select the name without its extension, as a file manager does.
            const dot = event.target.value.lastIndexOf('.');
            event.target.setSelectionRange(0, dot > 0 ? dot : event.target.value.length);
          }}
        />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" pending={pending}>
            {submitLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

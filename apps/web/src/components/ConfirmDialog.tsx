import type { ReactNode } from 'react';
import { Alert } from './Alert.tsx';
import { Button } from './Button.tsx';
import { Dialog } from './Dialog.tsx';

/** Ask before doing something that cannot be undone from here; focus starts on "Cancel". */
export function ConfirmDialog({
  open,
  title,
  description,
  confirmLabel,
  destructive = true,
  pending = false,
  error,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: ReactNode;
  description: ReactNode;
  confirmLabel: string;
  destructive?: boolean;
  pending?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={open}
      onClose={() => {
        if (!pending) onClose();
      }}
      title={title}
      description={description}
      footer={
        <>
          <Button data-autofocus onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button
            variant={destructive ? 'danger' : 'primary'}
            pending={pending}
            onClick={onConfirm}
          >
            {confirmLabel}
          </Button>
        </>
      }
    >
      {error ? <Alert tone="error">{error}</Alert> : null}
    </Dialog>
  );
}

/** The part of a mutation (TanStack Query's `useMutation`) a removal dialog drives. */
interface RemovalMutation<T> {
  isPending: boolean;
  error: Error | null;
  mutate(item: T): void;
  reset(): void;
}

/**
 * A confirmation for removing `item` with `mutation`; open while `item` is set. Closing clears
 * the choice (`onClose`) and the mutation's error.
 */
export function ConfirmRemoval<T>({
  item,
  mutation,
  title,
  description,
  confirmLabel,
  onClose,
}: {
  item: T | null;
  mutation: RemovalMutation<T>;
  title: (item: T) => ReactNode;
  description: ReactNode | ((item: T) => ReactNode);
  confirmLabel: string;
  onClose: () => void;
}) {
  return (
    <ConfirmDialog
      open={item !== null}
      title={item === null ? '' : title(item)}
      description={
        typeof description === 'function' ? (item === null ? '' : description(item)) : description
      }
      confirmLabel={confirmLabel}
      pending={mutation.isPending}
      error={mutation.error?.message}
      onConfirm={() => {
        if (item !== null) mutation.mutate(item);
      }}
      onClose={() => {
        onClose();
        mutation.reset();
      }}
    />
  );
}

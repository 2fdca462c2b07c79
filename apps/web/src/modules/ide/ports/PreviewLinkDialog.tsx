import type { CreatedPreviewLink, PreviewLink } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import {
  createPreviewLink,
  previewLinksQueryOptions,
  revokePreviewLink,
} from '../../../api/ports.ts';
import { Alert } from '../../../components/Alert.tsx';
import { Button } from '../../../components/Button.tsx';
import { CopyField } from '../../../components/CopyField.tsx';
import { Dialog } from '../../../components/Dialog.tsx';
import { SelectField } from '../../../components/Field.tsx';
import { formatDateTime } from '../../../components/format-date.ts';
import { useNow } from '../../../components/use-now.ts';

const LIFETIMES = [
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '1 day' },
  { hours: 7 * 24, label: '7 days' },
  { hours: 30 * 24, label: '30 days' },
];

const AUDIENCES = {
  team: 'People who sign in to this server',
  public: 'Anyone with the link',
} as const;

function live(link: PreviewLink, now: number): boolean {
  return !link.revokedAt && Date.parse(link.expiresAt) > now;
}

function state(link: PreviewLink, now: number): string {
  if (link.revokedAt) return `revoked ${formatDateTime(link.revokedAt)}`;
  if (!live(link, now)) return `expired ${formatDateTime(link.expiresAt)}`;
  return `until ${formatDateTime(link.expiresAt)}`;
}

/**
 * Share one port's preview with people who have no role on the workspace: the team (anyone who
 * signs in here) or anyone with the link, until it expires; links made before can be revoked.
 */
export function PreviewLinkDialog({
  workspace,
  port,
  onClose,
}: {
  workspace: string;
  port: number;
  onClose: () => void;
}) {
  const formId = useId();
  const now = useNow();
  const queryClient = useQueryClient();
  const links = useQuery(previewLinksQueryOptions(workspace));
  const [audience, setAudience] = useState<keyof typeof AUDIENCES>('team');
  const [hours, setHours] = useState(24);
  const [made, setMade] = useState<CreatedPreviewLink | null>(null);
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: previewLinksQueryOptions(workspace).queryKey });
  const create = useMutation({
    mutationFn: () => createPreviewLink(workspace, { port, audience, expiresInHours: hours }),
    onSuccess: (created) => {
      setMade(created);
      return refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => revokePreviewLink(workspace, id),
    onSuccess: refresh,
  });
  const ofPort = (links.data ?? []).filter((link) => link.port === port);

  return (
    <Dialog
      open
      onClose={onClose}
      title={`Share port ${port}`}
      description="A link opens this port’s preview to people without a role on the workspace. It shows only this port, sandboxed, and stops when it expires or you revoke it."
      footer={
        <>
          <Button onClick={onClose}>Close</Button>
          <Button type="submit" form={formId} variant="primary" pending={create.isPending}>
            Create link
          </Button>
        </>
      }
    >
      <form
        id={formId}
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        {create.error ? <Alert tone="error">{create.error.message}</Alert> : null}
        <div className="grid grid-cols-2 gap-3">
          <SelectField
            label="Who can open it"
            value={audience}
            onChange={(event) => setAudience(event.target.value as keyof typeof AUDIENCES)}
          >
            {Object.entries(AUDIENCES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
          <SelectField
            label="For"
            value={hours}
            onChange={(event) => setHours(Number(event.target.value))}
          >
            {LIFETIMES.map((lifetime) => (
              <option key={lifetime.hours} value={lifetime.hours}>
                {lifetime.label}
              </option>
            ))}
          </SelectField>
        </div>
        {made ? (
          <CopyField
            label={`Link (${AUDIENCES[made.link.audience].toLowerCase()}), shown this once`}
            value={made.url}
            copyLabel="Copy link"
          />
        ) : null}
      </form>
      {ofPort.length > 0 ? (
        <section aria-label="Links to this port" className="mt-5 space-y-2">
          <h3 className="text-[13px] font-medium text-fg">Links to this port</h3>
          {revoke.error ? <Alert tone="error">{revoke.error.message}</Alert> : null}
          <ul className="divide-y divide-line rounded-md border border-line">
            {ofPort.map((link) => (
              <li key={link.id} className="flex items-center gap-3 px-3 py-2 text-[13px]">
                <span className="min-w-0 flex-1">
                  <span className="font-medium text-fg">{AUDIENCES[link.audience]}</span>{' '}
                  <span className="text-muted">
                    · {state(link, now)}
                    {link.createdBy ? ` · by ${link.createdBy}` : ''}
                  </span>
                </span>
                {!live(link, now) ? null : (
                  <Button
                    size="sm"
                    variant="danger"
                    aria-label={`Revoke the link made ${formatDateTime(link.createdAt)}`}
                    pending={revoke.isPending && revoke.variables === link.id}
                    onClick={() => revoke.mutate(link.id)}
                  >
                    Revoke
                  </Button>
                )}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </Dialog>
  );
}

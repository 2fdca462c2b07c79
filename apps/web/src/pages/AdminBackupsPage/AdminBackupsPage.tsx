import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { backUpNow, serverBackupsQueryOptions } from '../../api/backups.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Alert } from '../../components/Alert.tsx';
import { Badge } from '../../components/Badge.tsx';
import { Button } from '../../components/Button.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { TableHead } from '../../components/TableHead.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { AdminTabs } from '../../modules/layout/AdminTabs.tsx';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';

function sizeOf(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** "2026-12-07T03-00-00Z" as the person's local date and time. */
function whenOf(name: string): string {
  const iso = name.replace(/T(\d\d)-(\d\d)-(\d\d)Z$/, 'T$1:$2:$3Z');
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? name : date.toLocaleString();
}

/** Admin → Backups: the backups the server writes itself, its schedule, and one now. */
export function AdminBackupsPage() {
  useDocumentTitle('Backups');
  const toast = useToast();
  const queryClient = useQueryClient();
  const isAdmin = useCurrentUser().role === 'admin';
  const backups = useQuery({ ...serverBackupsQueryOptions(), enabled: isAdmin });
  const now = useMutation({
    mutationFn: backUpNow,
    onSuccess: ({ name }) => {
      toast(`Backing up into ${name}…`);
      void queryClient.invalidateQueries({ queryKey: queryKeys.adminBackups() });
    },
    onError: (error) => toast(`Could not start a backup: ${error.message}`, 'error'),
  });

  if (!isAdmin)
    return (
      <>
        <PageHeader title="Backups" />
        <EmptyState title="Admins only">Only admins see and make backups.</EmptyState>
      </>
    );
  const data = backups.data;
  return (
    <>
      <PageHeader
        title="Backups"
        description="The database, the server’s secret and every workspace’s files, written by the server into a folder on its machine. studio restore --from <folder> brings them back."
        actions={
          <Button
            variant="primary"
            pending={now.isPending || data?.writing === true}
            onClick={() => now.mutate()}
          >
            {data?.writing ? 'Backing up…' : 'Back up now'}
          </Button>
        }
      />
      <AdminTabs />
      {backups.isPending ? (
        <Loading label="Loading backups…" />
      ) : backups.isError ? (
        <Alert tone="error">{backups.error.message}</Alert>
      ) : (
        <div className="space-y-4">
          <p className="text-sm text-muted">
            {data!.cron ? (
              <>
                On the schedule <code className="font-mono text-fg">{data!.cron}</code>
                {data!.next ? <>, next at {new Date(data!.next).toLocaleString()}</> : null}; the
                newest {data!.keep} are kept
              </>
            ) : (
              <>
                No schedule: set <code className="font-mono text-fg">STUDIO_BACKUP_CRON</code> (for
                example <code className="font-mono text-fg">0 3 * * *</code>) for one every night;
                the newest {data!.keep} are kept
              </>
            )}
            , in <code className="font-mono text-fg">{data!.dir}</code>.
          </p>
          {data!.backups.length === 0 ? (
            <EmptyState title="No backups yet">
              Back up now, or wait for the schedule. Each also lands in the audit log.
            </EmptyState>
          ) : (
            <div className="overflow-x-auto rounded-lg border border-line bg-surface shadow-xs">
              <table className="w-full text-left text-sm">
                <caption className="sr-only">Backups, newest first</caption>
                <TableHead columns={['When', 'Folder', 'Size', 'Workspaces', 'State']} />
                <tbody className="divide-y divide-line">
                  {data!.backups.map((backup) => (
                    <tr key={backup.name} aria-label={backup.name}>
                      <td className="px-5 py-3 whitespace-nowrap text-fg">{whenOf(backup.name)}</td>
                      <td className="px-5 py-3 font-mono text-[13px] text-muted">{backup.name}</td>
                      <td className="px-5 py-3 whitespace-nowrap tabular-nums">
                        {backup.bytes === null ? '—' : sizeOf(backup.bytes)}
                      </td>
                      <td className="px-5 py-3 whitespace-nowrap tabular-nums">
                        {backup.workspaces ?? '—'}
                        {backup.skipped ? (
                          <span className="text-muted"> ({backup.skipped} without files)</span>
                        ) : null}
                      </td>
                      <td className="px-5 py-3">
                        {backup.state === 'finished' ? (
                          <Badge tone="success">finished</Badge>
                        ) : (
                          <Badge tone="warning">
                            {data!.writing ? 'being written' : 'did not finish'}
                          </Badge>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </>
  );
}

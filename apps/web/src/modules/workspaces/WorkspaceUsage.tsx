import { useQuery } from '@tanstack/react-query';
import { workspaceStatsQueryOptions } from '../../api/workspaces.ts';

/** Bytes as MiB below a GiB, GiB above, the way `free -h` reads. */
export function formatBytes(bytes: number): string {
  const mib = bytes / 1024 / 1024;
  return mib < 1024 ? `${Math.round(mib)} MiB` : `${(mib / 1024).toFixed(1)} GiB`;
}

function Meter({ label, fraction }: { label: string; fraction: number }) {
  const clamped = Math.max(0, Math.min(1, fraction));
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped * 100)}
      className="h-1 w-24 overflow-hidden rounded-full bg-line"
    >
      <div
        className={`h-full rounded-full ${clamped > 0.9 ? 'bg-danger' : 'bg-accent'}`}
        style={{ width: `${clamped * 100}%` }}
      />
    </div>
  );
}

/** CPU and memory of a running workspace, refreshed every few seconds. */
export function WorkspaceUsage({ name, cpus }: { name: string; cpus: number }) {
  const stats = useQuery(workspaceStatsQueryOptions(name));
  if (!stats.data) return <span className="text-muted">{stats.isError ? '—' : '…'}</span>;
  const { cpuPercent, memoryBytes, memoryLimitBytes } = stats.data;
  return (
    <div className="space-y-1.5 text-[12px] text-muted">
      <div title={`${cpuPercent.toFixed(1)}% of one core; ${cpus} cores allowed`}>
        <span className="tabular-nums">CPU {Math.round(cpuPercent)}%</span>
        <Meter label={`${name} CPU`} fraction={cpuPercent / 100 / cpus} />
      </div>
      <div>
        <span className="tabular-nums">
          {formatBytes(memoryBytes)}
          {memoryLimitBytes ? ` / ${formatBytes(memoryLimitBytes)}` : ''}
        </span>
        {memoryLimitBytes ? (
          <Meter label={`${name} memory`} fraction={memoryBytes / memoryLimitBytes} />
        ) : null}
      </div>
    </div>
  );
}

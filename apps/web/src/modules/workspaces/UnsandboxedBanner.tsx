import { useQuery } from '@tanstack/react-query';
import { runtimeQueryOptions } from '../../api/workspaces.ts';
import { Alert } from '../../components/Alert.tsx';

/** A warning, shown only when this server runs workspaces without any sandbox. */
export function UnsandboxedBanner({ className = '' }: { className?: string }) {
  const runtime = useQuery(runtimeQueryOptions());
  if (runtime.data?.isolation !== 'none') return null;
  return (
    <Alert tone="warning" className={className} title="Workspaces run unsandboxed on this machine">
      Their programs run as the server’s own user and can read and change its files. For isolation,
      install bubblewrap (<code className="font-mono text-[13px]">apt install bubblewrap</code>) or
      a container engine such as Docker, then restart the server. Until then, workspaces can only be
      created while this server has a single user.
    </Alert>
  );
}

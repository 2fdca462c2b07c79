import { useEffect, useMemo, useRef, useState } from 'react';

/** Someone else in the workspace's IDE, and the file theirs shows. */
export interface WorkspacePeer {
  client: number;
  name: string;
  key: string;
  color: string;
  path: string | null;
}

/**
 * Who else has the workspace open and which file each is in, live; this page tells them `active`.
 * Answers the people by file (one mark per person, however many tabs they have).
 */
export function useWorkspacePresence(workspace: string, active: string | null) {
  const [peers, setPeers] = useState<WorkspacePeer[]>([]);
  const joined = useRef<{ show(path: string | null): void; leave(): void } | null>(null);
  const activeRef = useRef(active);

  useEffect(() => {
    let left = false;
    void import('./presence-client.ts').then(({ joinPresence }) => {
      if (left) return;
      joined.current = joinPresence(workspace, setPeers);
      joined.current.show(activeRef.current);
    });
    return () => {
      left = true;
      joined.current?.leave();
      joined.current = null;
      setPeers([]);
    };
  }, [workspace]);

  useEffect(() => {
    activeRef.current = active;
    joined.current?.show(active);
  }, [active]);

  const byPath = useMemo(() => {
    const map = new Map<string, WorkspacePeer[]>();
    for (const peer of peers) {
      if (!peer.path) continue;
      const here = map.get(peer.path) ?? [];
      if (!here.some((other) => other.key === peer.key)) here.push(peer);
      map.set(peer.path, here);
    }
    return map;
  }, [peers]);

  return { peers, byPath };
}

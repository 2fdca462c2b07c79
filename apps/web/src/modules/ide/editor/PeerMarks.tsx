import type { WorkspacePeer } from './use-workspace-presence.ts';

/** A coloured dot per person in a file, for its tab and its row in the tree. */
export function PeerMarks({ peers }: { peers: WorkspacePeer[] | undefined }) {
  if (!peers || peers.length === 0) return null;
  const names = peers.map((peer) => peer.name).join(', ');
  return (
    <span
      className="flex shrink-0 items-center gap-0.5"
      aria-label={`Here: ${names}`}
      title={`Here: ${names}`}
    >
      {peers.slice(0, 3).map((peer) => (
        <span
          key={peer.key}
          className="inline-block size-2 rounded-full"
          style={{ backgroundColor: peer.color }}
        />
      ))}
    </span>
  );
}

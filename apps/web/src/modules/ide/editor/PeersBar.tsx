import type { Peer } from './shared-file.ts';

/**
 * Who else is in this file: a chip per person or agent in their cursor's colour, with the line
 * they are on. Clicking one follows them (the editor keeps their cursor in view); again stops.
 */
export function PeersBar({
  peers,
  following,
  onFollow,
  offline,
}: {
  peers: Peer[];
  following: string | null;
  onFollow: (key: string | null) => void;
  /** The link to the workspace is down: say the edits are kept. */
  offline: boolean;
}) {
  if (peers.length === 0 && !offline) return null;
  return (
    <div
      className="absolute right-3 top-1 z-10 flex max-w-[60%] flex-wrap justify-end gap-1"
      aria-label="People in this file"
      data-testid="file-peers"
    >
      {offline ? (
        <span
          role="status"
          className="rounded-full border border-line bg-subtle px-2 py-0.5 text-[11px] shadow-sm"
        >
          Offline: your edits are kept and join the others' when the link is back
        </span>
      ) : null}
      {peers.map((peer) => {
        const followed = following === peer.key;
        return (
          <button
            key={peer.client}
            type="button"
            onClick={() => onFollow(followed ? null : peer.key)}
            title={
              followed
                ? `Following ${peer.name} — click to stop`
                : `${peer.name}${peer.line ? `, line ${peer.line}` : ''} — click to follow`
            }
            aria-pressed={followed}
            className="flex items-center gap-1 rounded-full border bg-subtle px-2 py-0.5 text-[11px] shadow-sm"
            style={{
              borderColor: peer.color,
              outline: followed ? `2px solid ${peer.color}` : undefined,
            }}
          >
            <span
              aria-hidden
              className="inline-block h-2 w-2 rounded-full"
              style={{ backgroundColor: peer.color }}
            />
            <span className="max-w-40 truncate">{peer.name}</span>
            {peer.line ? <span className="opacity-60">:{peer.line}</span> : null}
          </button>
        );
      })}
    </div>
  );
}

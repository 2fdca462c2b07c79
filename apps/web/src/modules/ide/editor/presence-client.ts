import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { peerColor } from './peer-color.ts';
import type { WorkspacePeer } from './use-workspace-presence.ts';

interface PresenceState {
  user?: { name: string; key: string; kind?: 'person' | 'agent' };
  at?: { path: string | null };
}

/**
 * The workspace's presence room (y-websocket's awareness over our socket): this page says which
 * file it shows; it hears which file everyone else's shows. Loaded on demand, so Yjs is not in
 * the IDE's first chunk.
 */
export function joinPresence(workspace: string, onPeers: (peers: WorkspacePeer[]) => void) {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(
    `${scheme}//${window.location.host}/api/workspaces/${encodeURIComponent(workspace)}/collab`,
    'presence',
    doc,
    { disableBc: true, maxBackoffTime: 3000 },
  );
  provider.awareness.on('change', () => {
    const peers: WorkspacePeer[] = [];
    for (const [client, state] of provider.awareness.getStates() as Map<number, PresenceState>) {
      if (client === doc.clientID || !state.user) continue;
      peers.push({
        client,
        name: state.user.name,
        key: state.user.key,
        color: peerColor(state.user.key),
        path: state.at?.path ?? null,
      });
    }
    onPeers(peers);
  });
  return {
    show: (path: string | null) => provider.awareness.setLocalStateField('at', { path }),
    leave: () => {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** The URL of a workspace's desktop socket: raw RFB (VNC) in binary frames, same origin. */
export function desktopVncUrl(name: string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/api/workspaces/${encodeURIComponent(name)}/desktop/vnc`;
}

/**
 * Open the desktop socket for noVNC to drive. noVNC could open it from the URL, but then its
 * close code (4404, 4503, 4401 and the server's reason) would never reach us: noVNC reports only
 * "clean" or not. `onClose` is registered before noVNC attaches, so it runs first.
 */
export function openDesktopSocket(
  name: string,
  onClose: (code: number, reason: string) => void,
): WebSocket {
  const socket = new WebSocket(desktopVncUrl(name));
  socket.binaryType = 'arraybuffer';
  socket.addEventListener('close', (event) => onClose(event.code, event.reason));
  return socket;
}

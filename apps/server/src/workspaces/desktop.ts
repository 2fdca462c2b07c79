/** Where a desktop template's VNC server listens, inside the workspace only (`studio-desktop`). */
export const VNC_PORT = 5900;

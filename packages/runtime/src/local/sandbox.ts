import { existsSync, lstatSync } from 'node:fs';

/** Where things sit inside a sandboxed local workspace (the same layout as a container). */
export const INSIDE = {
  home: '/home/user',
  runtime: '/opt/studio',
  run: '/run/studio',
} as const;

/** What the sandbox needs to know about one workspace. */
export interface SandboxOptions {
  hostname: string;
  homeDir: string;
  runDir: string;
  runtimeDir: string;
  passwdFile: string;
  uid: number;
  gid: number;
  /**
   * When bwrap runs inside a network namespace of the workspace's own (see network.ts), the
   * resolver file for the user-mode network attached to it.
   */
  resolvConf?: string;
  /** Size of each of /tmp and /var/tmp (memory: a full /tmp is ENOSPC, not an OOM kill). */
  tmpfsBytes: number;
}

/**
 * The `bwrap` arguments that run a command in a fresh pid/ipc/uts
 * namespace with only the workspace's home and run folders writable and `/usr`, `/etc`
 * read-only. Other workspaces' folders and the server's data dir are simply not mounted.
 */
export function bwrapArgs(options: SandboxOptions): string[] {
  const args = [
    '--unshare-user',
    '--uid',
    String(options.uid),
    '--gid',
    String(options.gid),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    options.hostname,
    // The sandbox dies with bwrap's parent (the driver's launcher shell, not the server), so
    // stopping a workspace is one signal to that shell.
    '--die-with-parent',
    // A new session: a process inside cannot push keystrokes into a terminal outside (TIOCSTI).
    '--new-session',
    '--ro-bind',
    '/usr',
    '/usr',
    ...mergedUsrLinks(),
    '--ro-bind',
    '/etc',
    '/etc',
    // Our own passwd: the workspace user has a name, and the host's accounts stay private.
    '--ro-bind',
    options.passwdFile,
    '/etc/passwd',
    ...(options.resolvConf ? ['--ro-bind', options.resolvConf, '/etc/resolv.conf'] : []),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(options.tmpfsBytes),
    '--tmpfs',
    '/tmp',
    '--size',
    String(options.tmpfsBytes),
    '--tmpfs',
    '/var/tmp',
    '--ro-bind',
    options.runtimeDir,
    INSIDE.runtime,
    '--bind',
    options.runDir,
    INSIDE.run,
    '--bind',
    options.homeDir,
    INSIDE.home,
    '--chdir',
    INSIDE.home,
  ];
  return args;
}

/** `/bin`, `/lib`… are symlinks into `/usr` on merged-/usr systems, and real folders elsewhere. */
function mergedUsrLinks(): string[] {
  const args: string[] = [];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const path = `/${name}`;
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) args.push('--symlink', `usr/${name}`, path);
    else args.push('--ro-bind', path, path);
  }
  return args;
}

/** A passwd file naming the workspace user, like a container image's. */
export function passwdFor(uid: number, gid: number): string {
  return [
    'root:x:0:0:root:/root:/bin/bash',
    `user:x:${uid}:${gid}:Workspace user:${INSIDE.home}:/bin/bash`,
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    '',
  ].join('\n');
}

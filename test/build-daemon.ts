import { execFileSync } from 'node:child_process';

/** Build the workspace daemon bundle once before any test runs (a no-op when it is up to date). */
export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build', '-w', '@studio/daemon'], { stdio: 'inherit' });
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What {@link installFirewall} did on the host. */
export interface FirewallReport {
  /** Rules now in place, as `iptables` arguments. */
  rules: string[];
  /** Human-readable lines for the server log. */
  log: string[];
}

/** Our own chain for packets from workspaces to the host itself. */
const INPUT_CHAIN = 'STUDIO-WS-INPUT';
/** Link-local: the cloud metadata service (169.254.169.254, ECS 169.254.170.2) lives here. */
const LINK_LOCAL = '169.254.0.0/16';

/**
 * Best effort, root only: keep workspaces on `bridge` away from the host's own addresses
 * (INPUT: only replies to connections the host opened) and from link-local metadata services
 * (DOCKER-USER, or FORWARD without Docker's chains). Idempotent; rules are lost on reboot and
 * re-applied when the driver first needs its network. Never throws.
 */
export async function installFirewall(
  bridge: string,
  allowHostPorts: readonly number[] = [],
): Promise<FirewallReport> {
  const report: FirewallReport = { rules: [], log: [] };
  if (process.getuid?.() !== 0) {
    report.log.push('not root: no firewall rules installed; workspaces can reach host ports');
    return report;
  }
  const iptables = async (...args: string[]) => run('iptables', ['-w', '5', ...args]);
  try {
    await iptables('-S', 'INPUT');
  } catch (error) {
    report.log.push(
      `iptables unusable (${(error as Error).message.split('\n')[0]}); no rules installed`,
    );
    return report;
  }
  /** Add a rule at the top of a chain unless it is already there. */
  const ensure = async (chain: string, rule: string[]) => {
    try {
      await iptables('-C', chain, ...rule);
    } catch {
      await iptables('-I', chain, '1', ...rule);
    }
    report.rules.push(['-A', chain, ...rule].join(' '));
  };

  try {
    // Host itself: our chain, rebuilt each time so an edited rule set replaces the old one.
    await iptables('-N', INPUT_CHAIN).catch(() => {});
    await iptables('-F', INPUT_CHAIN);
    const established = ['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'RETURN'];
    await iptables('-A', INPUT_CHAIN, ...established);
    report.rules.push(['-A', INPUT_CHAIN, ...established].join(' '));
    // Host services the admin opened on purpose (e.g. a git server on this machine).
    for (const port of allowHostPorts) {
      const rule = ['-p', 'tcp', '--dport', String(port), '-j', 'RETURN'];
      await iptables('-A', INPUT_CHAIN, ...rule);
      report.rules.push(['-A', INPUT_CHAIN, ...rule].join(' '));
    }
    await iptables('-A', INPUT_CHAIN, '-j', 'DROP');
    report.rules.push(`-A ${INPUT_CHAIN} -j DROP`);
    await ensure('INPUT', ['-i', bridge, '-j', INPUT_CHAIN]);

    // Metadata services: forwarded traffic. DOCKER-USER is Docker's place for user rules.
    const hasDockerUser = await iptables('-S', 'DOCKER-USER').then(
      () => true,
      () => false,
    );
    await ensure(hasDockerUser ? 'DOCKER-USER' : 'FORWARD', [
      '-i',
      bridge,
      '-d',
      LINK_LOCAL,
      '-j',
      'DROP',
    ]);
    report.log.push(
      `firewall: workspaces on ${bridge} cannot open connections to the host${
        allowHostPorts.length ? ` (except TCP ports ${allowHostPorts.join(', ')})` : ''
      } or ${LINK_LOCAL}; ` + `rules: ${report.rules.join(' | ')}`,
    );
  } catch (error) {
    report.log.push(`firewall rules incomplete: ${(error as Error).message.split('\n')[0]}`);
  }
  return report;
}

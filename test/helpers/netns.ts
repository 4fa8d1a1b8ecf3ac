/**
 * netns — a network namespace the test creates for the gateway, joined to the host by a
 * veth pair (host end 10.213.N.1/24, namespace end 10.213.N.2/24), so a test can change
 * the gateway's address or cut its link for real. Needs root (CI runs as root); it
 * fails loudly otherwise. Everything it creates is removed by `remove()`.
 */
import { spawnSync } from 'node:child_process';

export interface NetNs {
  name: string;
  hostIp: string;
  nsIp: string;
  /** argv prefix that runs a command inside the namespace. */
  exec: string[];
  /** Move the namespace end to `ip` (add the new address, then remove the old one). */
  changeAddress(ip: string): void;
  setLink(up: boolean): void;
  remove(): void;
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
  }
}

export function createNetNs(): NetNs {
  const id = Math.floor(Math.random() * 200) + 20;
  const name = `ivgw-test-${process.pid}-${id}`;
  const hostIf = `ivh${process.pid % 10000}${id}`.slice(0, 15);
  const nsIf = `ivg${process.pid % 10000}${id}`.slice(0, 15);
  const subnet = `10.213.${id}`;
  const hostIp = `${subnet}.1`;
  let nsIp = `${subnet}.2`;
  ip(['netns', 'add', name]);
  try {
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    ip(['link', 'set', nsIf, 'netns', name]);
    ip(['addr', 'add', `${hostIp}/24`, 'dev', hostIf]);
    ip(['link', 'set', hostIf, 'up']);
    ip(['-n', name, 'addr', 'add', `${nsIp}/24`, 'dev', nsIf]);
    ip(['-n', name, 'link', 'set', nsIf, 'up']);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
    // removing the old address must keep the new one of the same subnet (Linux drops secondaries otherwise)
    ip(['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv4.conf.all.promote_secondaries=1', `net.ipv4.conf.${nsIf}.promote_secondaries=1`]);
  } catch (err) {
    spawnSync('ip', ['link', 'del', hostIf]);
    spawnSync('ip', ['netns', 'del', name]);
    throw err;
  }
  return {
    name,
    hostIp,
    get nsIp() {
      return nsIp;
    },
    exec: ['ip', 'netns', 'exec', name],
    changeAddress: (next) => {
      ip(['-n', name, 'addr', 'add', `${next}/24`, 'dev', nsIf]);
      ip(['-n', name, 'addr', 'del', `${nsIp}/24`, 'dev', nsIf]);
      nsIp = next;
    },
    setLink: (up) => ip(['link', 'set', hostIf, up ? 'up' : 'down']),
    remove: () => {
      spawnSync('ip', ['link', 'del', hostIf]);
      spawnSync('ip', ['netns', 'del', name]);
    },
  };
}

/**
 * What the local data plane needs from the machine, and getting it: on a fresh Debian/Ubuntu machine `npm start`
 * installs the missing packages itself when it runs as root with apt (as .ci/run does) and says so; otherwise it names
 * them and runs the control plane alone. Nothing here is built from user input.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Tools the node agent, the namespaces and the demo use, with the Debian package of each. */
export const DATAPLANE_TOOLS: readonly { tool: string; pkg: string; optional?: boolean }[] = [
  { tool: 'ip', pkg: 'iproute2' },
  { tool: 'nft', pkg: 'nftables' },
  { tool: 'dnsmasq', pkg: 'dnsmasq-base' },
  { tool: 'python3', pkg: 'python3' },
  { tool: 'curl', pkg: 'curl' },
  // Without it the agent still applies everything and says stale UDP entries were not cleared.
  { tool: 'conntrack', pkg: 'conntrack', optional: true },
];

/** PATH, plus the sbin directories a non-login root shell may lack. */
const SBIN = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
export const onPath = (tool: string): boolean =>
  [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN].some((d) => existsSync(join(d, tool)));

export interface PrereqEnv {
  isRoot: boolean;
  has: (tool: string) => boolean;
  /** Runs a command (argv, no shell), inheriting output; returns its exit status. */
  run: (argv: string[]) => number;
  say: (line: string) => void;
  /**
   * false: never install, only check (the background system svcctl starts on its own must not run apt behind the
   * user's back; `npm start` in the foreground may, and says so).
   */
  mayInstall?: boolean;
}

export function defaultPrereqEnv(say: (line: string) => void): PrereqEnv {
  return {
    isRoot: process.getuid?.() === 0,
    has: onPath,
    run: (argv) => spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] }).status ?? 1,
    say,
  };
}

/**
 * ok: the data plane can run (after installing what was missing, when possible); otherwise `why` names the packages.
 * Optional tools are installed along with the others but never block the data plane.
 */
export function ensureDataPlanePrereqs(env: PrereqEnv): { ok: boolean; why?: string } {
  const missing = DATAPLANE_TOOLS.filter((t) => !env.has(t.tool));
  const required = missing.filter((t) => !t.optional);
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  if (!env.isRoot) {
    const also = required.length ? `; it also needs the Debian packages ${pkgs.join(' ')}` : '';
    return { ok: false, why: `not root: network namespaces need root${also}` };
  }
  if (missing.length === 0) return { ok: true };
  if (env.mayInstall !== false && env.has('apt-get')) {
    env.say(`installing the data plane's Debian packages (as .ci/run does): ${pkgs.join(' ')}`);
    if (env.run(['apt-get', 'update', '-qq']) === 0) env.run(['apt-get', 'install', '-y', '-qq', ...pkgs]);
    const still = required.filter((t) => !env.has(t.tool));
    if (still.length === 0) return { ok: true };
    return { ok: false, why: `apt-get could not install ${still.map((t) => t.pkg).join(' ')}` };
  }
  if (required.length === 0) return { ok: true };
  const names = required.map((t) => `${t.tool} (Debian package ${t.pkg})`).join(', ');
  return { ok: false, why: `missing ${names}; install them, e.g. apt-get install ${pkgs.join(' ')}` };
}

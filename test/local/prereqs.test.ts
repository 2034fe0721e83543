/** npm start on a fresh machine: the data plane's Debian packages are installed as root with apt, or named. */
import { describe, expect, it } from 'vitest';
import { ensureDataPlanePrereqs, type PrereqEnv } from '../../tools/local/prereqs.js';

function fakeEnv(opts: { root: boolean; installed: string[]; apt: boolean; aptWorks?: boolean }) {
  const installed = new Set(opts.installed);
  const runs: string[][] = [];
  const said: string[] = [];
  const env: PrereqEnv = {
    isRoot: opts.root,
    has: (t) => (t === 'apt-get' ? opts.apt : installed.has(t)),
    run: (argv) => {
      runs.push(argv);
      if (opts.aptWorks !== false && argv[1] === 'install')
        for (const t of ['nft', 'dnsmasq', 'conntrack']) installed.add(t);
      return opts.aptWorks === false ? 100 : 0;
    },
    say: (l) => said.push(l),
  };
  return { env, runs, said };
}

describe('data-plane prerequisites', () => {
  it('as root with apt: installs exactly the missing packages, says so, and runs the data plane', () => {
    const f = fakeEnv({ root: true, apt: true, installed: ['ip', 'python3', 'curl'] });
    expect(ensureDataPlanePrereqs(f.env)).toEqual({ ok: true });
    expect(f.runs).toEqual([
      ['apt-get', 'update', '-qq'],
      ['apt-get', 'install', '-y', '-qq', 'nftables', 'dnsmasq-base', 'conntrack'],
    ]);
    expect(f.said).toEqual([
      "installing the data plane's Debian packages (as .ci/run does): nftables dnsmasq-base conntrack",
    ]);
  });

  it('nothing missing: nothing installed', () => {
    const f = fakeEnv({ root: true, apt: true, installed: ['ip', 'nft', 'dnsmasq', 'python3', 'curl', 'conntrack'] });
    expect(ensureDataPlanePrereqs(f.env)).toEqual({ ok: true });
    expect(f.runs).toEqual([]);
  });

  it('without apt: names what is missing, with the Debian packages; an optional tool alone does not block', () => {
    const f = fakeEnv({ root: true, apt: false, installed: ['ip', 'python3', 'curl'] });
    expect(ensureDataPlanePrereqs(f.env)).toEqual({
      ok: false,
      why: 'missing nft (Debian package nftables), dnsmasq (Debian package dnsmasq-base); install them, e.g. apt-get install nftables dnsmasq-base conntrack',
    });
    const g = fakeEnv({ root: true, apt: false, installed: ['ip', 'nft', 'dnsmasq', 'python3', 'curl'] });
    expect(ensureDataPlanePrereqs(g.env)).toEqual({ ok: true });
  });

  it('apt failing, or not root: the control plane runs alone and the reason is given', () => {
    const f = fakeEnv({ root: true, apt: true, aptWorks: false, installed: ['ip', 'python3', 'curl'] });
    expect(ensureDataPlanePrereqs(f.env)).toEqual({
      ok: false,
      why: 'apt-get could not install nftables dnsmasq-base',
    });
    const g = fakeEnv({ root: false, apt: true, installed: ['ip', 'python3', 'curl'] });
    expect(ensureDataPlanePrereqs(g.env)).toEqual({
      ok: false,
      why: 'not root: network namespaces need root; it also needs the Debian packages nftables dnsmasq-base conntrack',
    });
    expect(g.runs).toEqual([]);
  });

  it('the background system svcctl starts never installs: it checks, and names what is missing', () => {
    const f = fakeEnv({ root: true, apt: true, installed: ['ip', 'python3', 'curl'] });
    expect(ensureDataPlanePrereqs({ ...f.env, mayInstall: false })).toEqual({
      ok: false,
      why: 'missing nft (Debian package nftables), dnsmasq (Debian package dnsmasq-base); install them, e.g. apt-get install nftables dnsmasq-base conntrack',
    });
    expect(f.runs).toEqual([]);
    const g = fakeEnv({ root: true, apt: true, installed: ['ip', 'nft', 'dnsmasq', 'python3', 'curl', 'conntrack'] });
    expect(ensureDataPlanePrereqs({ ...g.env, mayInstall: false })).toEqual({ ok: true });
  });
});

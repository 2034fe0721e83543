/**
 * `npm start`'s command through the real binary, control plane only (the mode it falls back to without root): it
 * says so plainly, applies the examples through its API, the LoadBalancer Service gets its NLB's DNS name, and the one
 * line it prints (`export KUBECONFIG=...`) points the real kubectl at its API. It takes over from a background system
 * svcctl started, and stops what it started when it exits.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, SVCCTL_BIN } from '../support/cli.js';
import { kubectlWith } from '../support/kubectl-env.js';

const UP = ['local', 'up', '--control-plane-only'];

describe('svcctl local up --control-plane-only', () => {
  it('--exit-after-demo: says the data plane is off, applies through the API, shows the reconciled Services', async () => {
    const cli = cliEnv();
    const r = await cli.run([...UP, '--exit-after-demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('NOTE: running the control plane only (asked for with --control-plane-only)');
    expect(r.stdout).toContain('service/hellok8s-svc created\n');
    const rows = r.stdout.slice(r.stdout.indexOf('$ kubectl get services')).split('\n');
    const web = rows.find((l) => l.startsWith('web '))!.split(/\s{2,}/);
    expect(web[1]).toBe('LoadBalancer');
    expect(web[3]).toMatch(/^k8s-default-web-[0-9a-f]{10}-\d+\.us-east-1\.elb\.amazonaws\.com$/);
    expect(rows.find((l) => l.startsWith('hellok8s-svc '))).toMatch(/4567:30001\/TCP/);
    expect(r.stdout).not.toContain('Real requests through the data plane');
    expect(r.stdout).toContain(`\nexport KUBECONFIG=${cli.kubeconfig}\n`);
    // It is gone, and so is its kubeconfig; the state says nothing runs.
    expect(existsSync(cli.kubeconfig)).toBe(false);
    const st = await cli.run(['local', 'status']);
    expect(st.stdout).toContain('API and controller: not running');
  }, 180_000);

  it('stops the local AWS it started itself when it exits (every process it made goes with it)', async () => {
    const cli = cliEnv();
    rmSync(join(cli.home, 'local.json')); // no running local AWS: this run starts its own moto server
    const r = await cli.run([...UP, '--exit-after-demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('starting the local AWS (moto server) on loopback');
    const pid = Number(/stopped the local AWS it had started \(moto server pid (\d+)\)/.exec(r.stderr)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(join(cli.home, 'local.json'))).toBe(false);
  }, 180_000);

  it('the KUBECONFIG line it prints points the real kubectl at its API; Ctrl-C stops it', async () => {
    const cli = cliEnv();
    // A background system svcctl started gives way to npm start.
    const first = await cli.run(['get', 'services']);
    expect(first.code, first.stderr).toBe(0);
    const child = spawn(process.execPath, [SVCCTL_BIN, ...UP], { env: cli.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number>((res) => child.on('close', (code) => res(code ?? -1)));
    try {
      for (let i = 0; i < 240 && !out.includes('Press Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 500));
      expect(out, err).toContain('Running. Press Ctrl-C to stop.');
      expect(err).toMatch(/stopping the local system svcctl started in the background \(pid \d+\)/);
      const kubeconfig = /^export KUBECONFIG=(\S+)$/m.exec(out)?.[1];
      expect(kubeconfig).toBe(cli.kubeconfig);
      const kubectl = kubectlWith(kubeconfig!);
      const k = await kubectl.run(['get', 'service', 'hellok8s-svc']);
      expect(k.stderr).toBe('');
      expect(k.stdout.split('\n')[0]).toMatch(/^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE$/);
      expect(k.stdout.split('\n')[1]).toMatch(/^hellok8s-svc +NodePort +10\.\S+ +<none> +4567:30001\/TCP +\d+s$/);
      // svcctl uses the same system (no start-up message).
      const g = await cli.run(['get', 'service', 'hellok8s-svc']);
      expect(g.stderr).toBe('');
      expect(g.stdout).toBe(k.stdout.replace(/\d+s\n$/, g.stdout.match(/\d+s\n$/)![0]));
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(existsSync(cli.kubeconfig)).toBe(false);
  }, 240_000);
});

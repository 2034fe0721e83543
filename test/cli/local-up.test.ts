/**
 * `npm start`'s command through the real binary, control plane only (the mode it falls back to without root): it
 * says so plainly, applies the examples, and the LoadBalancer Service gets its NLB's DNS name.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv } from '../support/cli.js';

describe('svcctl local up --control-plane-only --exit-after-demo', () => {
  it('runs the control plane, says the data plane is off, and shows the reconciled Services', async () => {
    const cli = cliEnv();
    const r = await cli.run(['local', 'up', '--control-plane-only', '--exit-after-demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('NOTE: running the control plane only (asked for with --control-plane-only)');
    expect(r.stdout).toContain('service/hellok8s-svc created\n');
    const rows = r.stdout.slice(r.stdout.indexOf('$ svcctl get services')).split('\n');
    const web = rows.find((l) => l.startsWith('web '))!.split(/\s{2,}/);
    expect(web[1]).toBe('LoadBalancer');
    expect(web[3]).toMatch(/^k8s-default-web-[0-9a-f]{10}-\d+\.us-east-1\.elb\.amazonaws\.com$/);
    expect(rows.find((l) => l.startsWith('hellok8s-svc '))).toMatch(/4567:30001\/TCP/);
    expect(r.stdout).not.toContain('Real requests through the data plane');
    // The loop marked itself gone on exit: a later svcctl reconciles inline again.
    const st = await cli.run(['local', 'status']);
    expect(st.stdout).toContain('controller loop: not running');
  }, 180_000);

  it('stops the local AWS it started itself when it exits (every process it made goes with it)', async () => {
    const cli = cliEnv();
    rmSync(join(cli.home, 'local.json')); // no running local AWS: this run starts its own moto server
    const r = await cli.run(['local', 'up', '--control-plane-only', '--exit-after-demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('starting the local AWS (moto server) on loopback');
    const pid = Number(/stopped the local AWS it had started \(moto server pid (\d+)\)/.exec(r.stderr)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(join(cli.home, 'local.json'))).toBe(false);
  }, 180_000);
});

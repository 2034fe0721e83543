/**
 * `svcctl apply -f FILE` with one file of many Services (issue 11: bounded cost for bad input), the whole svcctl
 * process timed from outside against the API server on the real backend (StoreBackend on a moto DynamoDB table):
 * - the file with its last object invalid (a NodePort out of range, which only the server's validation finds):
 *   refused, and nothing may be written;
 * - the file all valid: every Service created;
 * - the same file again: every Service unchanged.
 * Each checkout named runs the three cases in turn on a fresh table of its own, so the columns compare like for like.
 *
 *   npx tsx bench/apply-file.ts [--count 5000] [CHECKOUT...]   (default: this one; e.g. `. /tmp/main`, where /tmp/main
 *                                                               is main's `git archive` with node_modules linked)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { kubeconfigYaml } from '../tools/local/api-server.js';
import { startMoto } from '../tools/local/moto.js';
import { startTestApi, type TestApi } from '../test/support/api-server.js';
import { resourceOf } from '../test/support/registry.js';

const { values, positionals } = parseArgs({ options: { count: { type: 'string' } }, allowPositionals: true });
const COUNT = Number(values.count ?? 5000);
const CHECKOUTS = (positionals.length ? positionals : ['.']).map((d) => resolve(d));

const service = (i: number, spec: string) =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, labels: {app: a${i}}}\nspec: ${spec}\n`;

function manifest(count: number, lastInvalid: boolean): string {
  const docs: string[] = [];
  for (let i = 0; i < count; i++) docs.push(service(i, `{selector: {app: a${i}}, ports: [{port: 80}]}`));
  if (lastInvalid) docs[count - 1] = service(count - 1, '{type: NodePort, ports: [{port: 80, nodePort: 29999}]}');
  return docs.join('---\n');
}

interface Run {
  code: number;
  seconds: number;
  stdout: string;
  stderr: string;
}

function svcctl(checkout: string, env: NodeJS.ProcessEnv, args: string[]): Promise<Run> {
  return new Promise((res) => {
    const t = performance.now();
    const child = spawn(process.execPath, [join(checkout, 'bin/svcctl.mjs'), ...args], { env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => res({ code: code ?? -1, seconds: (performance.now() - t) / 1000, stdout, stderr }));
    child.stdin.end();
  });
}

async function stored(api: TestApi): Promise<number> {
  return (await api.backend.list(resourceOf('services'), 'default')).items.length;
}

function expectRun(what: string, r: Run, ok: boolean, lines: RegExp): void {
  const out = r.stdout.split('\n').filter(Boolean);
  if ((r.code === 0) !== ok || (ok && (out.length !== COUNT || !out.every((l) => lines.test(l)))))
    throw new Error(`${what}: exit ${r.code}, ${out.length} lines, stderr: ${r.stderr.slice(0, 500)}`);
}

async function measure(checkout: string): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'apply-bench-'));
  const api = await startTestApi();
  // Not $SVCCTL_HOME/kubeconfig: that one is the local system's, which svcctl would start in the background.
  const kubeconfig = join(dir, 'test-api.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml({ server: api.url, token: api.tokens.admin, caCert: api.caCert }));
  const env = { ...process.env, SVCCTL_HOME: dir, KUBECONFIG: kubeconfig };
  const bad = join(dir, 'bad.yaml');
  const good = join(dir, 'good.yaml');
  writeFileSync(bad, manifest(COUNT, true));
  writeFileSync(good, manifest(COUNT, false));
  // Builds the checkout's bundle and fills the OpenAPI cache, as any earlier command of a user would.
  await svcctl(checkout, env, ['get', 'services']);
  const rejected = await svcctl(checkout, env, ['apply', '-f', bad]);
  if (rejected.code !== 1 || !rejected.stderr.includes('29999') || (await stored(api)) !== 0)
    throw new Error(`rejected: exit ${rejected.code}, stderr ${rejected.stderr.slice(0, 500)}`);
  const created = await svcctl(checkout, env, ['apply', '-f', good]);
  expectRun('created', created, true, /^service\/svc-\d+ created$/);
  const unchanged = await svcctl(checkout, env, ['apply', '-f', good]);
  expectRun('unchanged', unchanged, true, /^service\/svc-\d+ unchanged$/);
  const n = await stored(api);
  if (n !== COUNT) throw new Error(`${n} Services stored, not ${COUNT}`);
  await api.close();
  rmSync(dir, { recursive: true, force: true });
  console.error(`${checkout}: ${rejected.seconds}s, ${created.seconds}s, ${unchanged.seconds}s`);
  return { rejected: rejected.seconds, created: created.seconds, unchanged: unchanged.seconds };
}

const moto = await startMoto();
process.env.MOTO_ENDPOINT = moto.endpoint;
const load = [loadavg()[0]!];
const results: Record<string, number>[] = [];
try {
  for (const checkout of CHECKOUTS) {
    results.push(await measure(checkout));
    load.push(loadavg()[0]!);
  }
} finally {
  await moto.stop();
}

const CASES: [string, string][] = [
  ['rejected', `${COUNT} Services, the last invalid: refused, nothing written`],
  ['created', `${COUNT} valid Services: all created`],
  ['unchanged', `the same file again: all unchanged`],
];
console.log(`| \`svcctl apply -f\` (whole process, s) | ${CHECKOUTS.join(' | ')} |`);
console.log(`|---|${CHECKOUTS.map(() => '---:').join('|')}|`);
for (const [key, label] of CASES) console.log(`| ${label} | ${results.map((r) => r[key]!.toFixed(2)).join(' | ')} |`);
console.log(`\nLoad average (1 min) at the start and after each checkout: ${load.map((l) => l.toFixed(2)).join(', ')}`);

/**
 * The API server under real clients, over the real backend (StoreBackend on a moto DynamoDB table, as in local mode):
 * - `kubectl get svc` latency with 1,000 Services (discovery cached on disk after the first run, as for a user);
 * - write-to-watch latency: time from the write call to its event arriving on a running watch (HTTPS, chunked);
 * - module init of the API request path bundled with esbuild (what a Lambda cold start imports).
 *
 *   npx tsx bench/apiserver.ts            (prints Markdown; copy it into docs/benchmarks.md)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { startMoto } from '../tools/local/moto.js';
import type { ApiObject } from '../lib/api/backend.js';
import { startTestApi } from '../test/support/api-server.js';
import { resourceOf } from '../test/support/registry.js';

const SERVICES = 1000;
const KUBECTL_RUNS = 40;
const WATCH_WRITES = 200;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(1)} ms, p90 ${pct(xs, 90).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms`;

async function kubectlGet(count: number): Promise<{ times: number[]; rows: number; server: number[] }> {
  const api = await startTestApi();
  const services = resourceOf('services');
  for (let i = 0; i < count; i++) {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: 'default' },
      spec: { type: 'NodePort', selector: { app: `a${i}` }, ports: [{ port: 80 }] },
    };
    await api.backend.create(services, 'default', svc as unknown as ApiObject, {});
  }
  console.error(`kubectl get svc: ${count} Services created`);
  const k = api.kubectl();
  await k.run(['get', 'svc']); // warms kubectl's discovery cache, as any earlier command would
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < KUBECTL_RUNS; i++) {
    const t = performance.now();
    const r = await k.run(['get', 'svc']);
    times.push(performance.now() - t);
    rows = Math.max(0, r.stdout.trim().split('\n').length - 1);
  }
  console.error(`kubectl get svc: ${KUBECTL_RUNS} runs done`);
  const server = await serverTime(api.url, api.caCert, api.tokens.admin);
  await api.close();
  return { times, rows, server };
}

/** The server's share: the same two Table pages kubectl fetches (limit=500), timed at the client over HTTPS. */
async function serverTime(url: string, ca: string, token: string): Promise<number[]> {
  const fetchPage = (query: string) =>
    new Promise<string>((resolve, reject) => {
      const headers = {
        authorization: `Bearer ${token}`,
        accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      };
      const req = request(`${url}/api/v1/namespaces/default/services?${query}`, { ca, headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  const times: number[] = [];
  for (let i = 0; i < KUBECTL_RUNS; i++) {
    const t = performance.now();
    const first = JSON.parse(await fetchPage('limit=500')) as { metadata: { continue?: string } };
    if (first.metadata.continue) await fetchPage(`limit=500&continue=${first.metadata.continue}`);
    times.push(performance.now() - t);
  }
  return times;
}

async function watchLatency(): Promise<number[]> {
  const api = await startTestApi();
  const services = resourceOf('services');
  const rv = await api.backend.currentRevision();
  const arrivals = new Map<string, number>();
  const url = new URL(`${api.url}/api/v1/namespaces/default/services?watch=true&resourceVersion=${rv}`);
  const req = request(url, { ca: api.caCert, headers: { authorization: `Bearer ${api.tokens.admin}` } });
  let buf = '';
  req.on('response', (res) => {
    res.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const ev = JSON.parse(buf.slice(0, nl)) as { object: ApiObject };
        buf = buf.slice(nl + 1);
        arrivals.set(ev.object.metadata.name!, performance.now());
      }
    });
  });
  req.end();
  await new Promise((r) => setTimeout(r, 300));
  const times: number[] = [];
  for (let i = 0; i < WATCH_WRITES; i++) {
    const name = `w-${i}`;
    const t = performance.now();
    await api.backend.create(
      services,
      'default',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default' },
        spec: { ports: [{ port: 80 }] },
      } as unknown as ApiObject,
      {},
    );
    while (!arrivals.has(name)) await new Promise((r) => setImmediate(r));
    times.push(arrivals.get(name)! - t);
  }
  req.destroy();
  await api.close();
  return times;
}

async function moduleInit(): Promise<{ ms: number[]; kb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'api-bundle-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    [
      `export { createApiHandler } from '${process.cwd()}/lib/apiserver/handler.ts';`,
      `export { createFunctionUrlHandler } from '${process.cwd()}/lib/apiserver/http/lambda.ts';`,
      `export { EksTokenAuthenticator } from '${process.cwd()}/lib/apiserver/auth/eks-verifier.ts';`,
      `export { RoleAuthorizer, iamRoleTable } from '${process.cwd()}/lib/apiserver/auth/roles.ts';`,
    ].join('\n'),
  );
  const out = join(dir, 'bundle.mjs');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    metafile: true,
    splitting: false,
    external: ['@aws-sdk/*'],
  });
  const kb = Math.round(result.metafile.outputs[Object.keys(result.metafile.outputs)[0]!]!.bytes / 1024);
  const ms: number[] = [];
  for (let i = 0; i < 7; i++) {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `const t=performance.now();await import(${JSON.stringify(out)});console.log(performance.now()-t)`,
        '--input-type=module',
      ],
      { encoding: 'utf8' },
    );
    ms.push(Number(r.stdout.trim()));
  }
  return { ms, kb };
}

// The test helpers' backend (a table of its own on a moto server) on this run's private moto server.
const moto = await startMoto();
process.env.MOTO_ENDPOINT = moto.endpoint;
const empty = await kubectlGet(0);
const get = await kubectlGet(SERVICES);
console.error('watch latency');
const watch = await watchLatency();
console.error('module init');
const init = await moduleInit();
await moto.stop();
console.log(`| Measure | Result |\n|---|---|`);
console.log(
  `| \`kubectl get svc\`, ${SERVICES} Services (${get.rows} rows), ${KUBECTL_RUNS} runs | ${fmt(get.times)} |`,
);
console.log(`| of which the server: both Table pages (limit=500) over HTTPS | ${fmt(get.server)} |`);
console.log(`| \`kubectl get svc\`, no Services (kubectl's own floor) | ${fmt(empty.times)} |`);
console.log(`| Write -> event on a running watch, ${WATCH_WRITES} writes | ${fmt(watch)} |`);
console.log(
  `| API request path module init (esbuild bundle, ${init.kb} KB), 7 cold imports | median ${pct(init.ms, 50).toFixed(1)} ms, max ${Math.max(...init.ms).toFixed(1)} ms |`,
);

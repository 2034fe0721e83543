/**
 * Bundles every Lambda handler exactly as the CDK construct does (infra/lib/bundling.ts: ESM, minified, node22,
 * @aws-sdk external) and prints each bundle's minified size against its budget. Exits 1 when a bundle exceeds its
 * budget, a handler is missing or fails to bundle or load, or the API's request path would load a forbidden module.
 *
 *   npx tsx scripts/bundle-size.ts            sizes, and the API's request-path check
 *   npx tsx scripts/bundle-size.ts --load     also import each bundle in a fresh Node process (ESM/CJS interop)
 *   npx tsx scripts/bundle-size.ts --time 7   also time each bundle's module init: 7 cold imports, each in a fresh
 *                                             process, from the import until the handler module has evaluated
 */
import { build, type Metafile } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  API_FORBIDDEN_MODULES,
  API_HANDLER,
  BUDGETS,
  BUNDLES,
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  EXTERNAL_MODULES,
  MAIN_FIELDS,
  REPO_ROOT,
  handlerEntry,
  type BundleName,
} from '../infra/lib/bundling.js';

export interface BundleResult {
  name: BundleName;
  bytes?: number;
  error?: string;
  loaded?: boolean;
  /** Module init times in ms (--time). */
  initMs?: number[];
  /** Modules the bundle imports at init (static imports of externals, and bundled packages). */
  initModules?: string[];
}

/** Environment a handler module may read at load time; values are placeholders, nothing is contacted. */
const LOAD_ENV: Record<string, string> = {
  CLUSTER_NAME: 'bundle-check',
  TABLE_NAME: 'bundle-check',
  EVENT_BUS_NAME: 'bundle-check',
  VPC_ID: 'vpc-0123456789abcdef0',
  SUBNET_IDS: 'subnet-0123456789abcdef0',
  SERVICE_CIDR: '10.96.0.0/12',
  NODE_PORT_RANGE: '30000-32767',
  CLUSTER_DOMAIN: 'cluster.local',
  ARTIFACT_BUCKET: 'bundle-check',
  SSM_DOCUMENT_NAME: 'bundle-check',
  PUSH_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bundle-check',
  NLB_QUOTA: '50',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_SERVICE_NAME: 'bundle-check',
  POWERTOOLS_METRICS_NAMESPACE: 'bundle-check',
  POWERTOOLS_TRACE_ENABLED: 'false',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/**
 * Imports one bundle in a fresh process, as the Lambda runtime does at cold start (with its `awslambda` global for
 * response streaming), and reports the init time, whether it exports a handler, and the CommonJS modules it loaded.
 */
const PROBE = `
globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
const t0 = performance.now();
const mod = await import(process.argv[1]);
const ms = performance.now() - t0;
const { createRequire } = await import('node:module');
const cache = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ ms, handler: typeof mod.handler, cjs: cache }));
`;

function probe(file: string): { ms: number; handler: string; cjs: string[] } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, pathToFileURL(file).href], {
    env: { ...process.env, ...LOAD_ENV },
    encoding: 'utf8',
    cwd: REPO_ROOT,
  });
  if (r.status !== 0)
    throw new Error(`bundle fails to load: ${(r.stderr || '').trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { ms: number; handler: string; cjs: string[] };
}

/** What runs at init: externals imported statically, and every bundled node_modules package. */
function initModules(meta: Metafile): string[] {
  const out = Object.values(meta.outputs)[0]!;
  const externals = out.imports.filter((i) => i.external && i.kind === 'import-statement').map((i) => i.path);
  const bundled = Object.keys(meta.inputs)
    .map((p) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(p)?.[1])
    .filter((p): p is string => Boolean(p));
  return [...new Set([...externals, ...bundled])].sort();
}

async function bundle(name: BundleName) {
  return build({
    entryPoints: [handlerEntry(name)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ESBUILD_TARGET,
    mainFields: MAIN_FIELDS,
    minify: true,
    external: EXTERNAL_MODULES,
    banner: { js: ESM_REQUIRE_BANNER },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

function loadChecks(res: BundleResult, file: string, runs: number): void {
  const times: number[] = [];
  for (let i = 0; i < Math.max(1, runs); i++) {
    const p = probe(file);
    if (p.handler !== 'function') throw new Error('bundle does not export a handler function');
    times.push(p.ms);
    if (res.name === API_HANDLER) {
      const hit = p.cjs.find((m) => API_FORBIDDEN_MODULES.some((f) => m.includes(`/node_modules/${f}/`)));
      if (hit) throw new Error(`the API's init loads ${hit}`);
    }
  }
  res.loaded = true;
  if (runs > 0) res.initMs = times;
}

async function bundleOne(
  name: BundleName,
  outDir: string,
  opts: { load?: boolean; time?: number },
): Promise<BundleResult> {
  const entry = handlerEntry(name);
  if (!existsSync(entry)) return { name, error: `missing entry ${entry}` };
  try {
    const r = await bundle(name);
    const code = r.outputFiles[0]!.contents;
    const res: BundleResult = { name, bytes: code.length, initModules: initModules(r.metafile) };
    if (name === API_HANDLER) {
      const bad = res.initModules!.filter((m) => API_FORBIDDEN_MODULES.includes(m));
      if (bad.length) return { ...res, error: `the API's request path imports ${bad.join(', ')}` };
    }
    if (opts.load || opts.time) {
      const file = join(outDir, `${name}.mjs`);
      writeFileSync(file, code);
      loadChecks(res, file, opts.time ?? 0);
    }
    return res;
  } catch (err) {
    return { name, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

export async function bundleAll(opts: { load?: boolean; time?: number } = {}): Promise<BundleResult[]> {
  // Inside node_modules so a loaded bundle resolves the external @aws-sdk packages like the Lambda runtime does.
  const outDir = join(REPO_ROOT, 'node_modules', '.cache', 'ssc-bundle-size');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const results: BundleResult[] = [];
  for (const name of BUNDLES) results.push(await bundleOne(name, outDir, opts));
  return results;
}

export function overBudget(results: readonly BundleResult[]): BundleResult[] {
  return results.filter((r) => r.error !== undefined || (r.bytes ?? 0) > BUDGETS[r.name]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  const i = process.argv.indexOf('--time');
  const time = i > 0 ? Number(process.argv[i + 1] ?? 5) : 0;
  const results = await bundleAll({ load: process.argv.includes('--load'), time });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`bundle            minified      budget${time ? `   init ms (median / max of ${time})` : ''}`);
  for (const r of results) {
    const size = r.bytes === undefined ? '-' : kb(r.bytes);
    const status = r.error ? `FAIL: ${r.error}` : (r.bytes ?? 0) > BUDGETS[r.name] ? 'FAIL: over budget' : 'ok';
    const init = r.initMs ? `   ${median(r.initMs).toFixed(1)} / ${Math.max(...r.initMs).toFixed(1)}` : '';
    console.log(
      `${r.name.padEnd(17)} ${size.padStart(10)} ${kb(BUDGETS[r.name]).padStart(10)}${init}   ${status}${r.loaded ? ' (loads)' : ''}`,
    );
  }
  const bad = overBudget(results);
  if (bad.length > 0) {
    console.error(`${bad.length} bundle(s) failed: ${bad.map((b) => b.name).join(', ')}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}

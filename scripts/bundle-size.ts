/**
 * Bundles every Lambda handler exactly as the CDK construct does (infra/lib/bundling.ts: ESM, minified, node22,
 * @aws-sdk external) and prints each bundle's minified size. Exits 1 when a bundle exceeds the 500 KB budget or a
 * handler is missing or fails to bundle.
 *
 *   npx tsx scripts/bundle-size.ts          sizes only
 *   npx tsx scripts/bundle-size.ts --load   also import each bundle in Node (catches ESM/CJS interop errors at load)
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BUNDLE_BUDGET_BYTES,
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  EXTERNAL_MODULES,
  HANDLERS,
  MAIN_FIELDS,
  REPO_ROOT,
  handlerEntry,
  type HandlerName,
} from '../infra/lib/bundling.js';

export interface BundleResult {
  name: HandlerName;
  bytes?: number;
  error?: string;
  loaded?: boolean;
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

export async function bundleAll(opts: { load?: boolean } = {}): Promise<BundleResult[]> {
  // Inside node_modules so a loaded bundle resolves the external @aws-sdk packages like the Lambda runtime does.
  const outDir = join(REPO_ROOT, 'node_modules', '.cache', 'ssc-bundle-size');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const results: BundleResult[] = [];
  for (const name of HANDLERS) {
    const entry = handlerEntry(name);
    if (!existsSync(entry)) {
      results.push({ name, error: `missing entry ${entry}` });
      continue;
    }
    try {
      const r = await build({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: ESBUILD_TARGET,
        mainFields: MAIN_FIELDS,
        minify: true,
        external: EXTERNAL_MODULES,
        banner: { js: ESM_REQUIRE_BANNER },
        write: false,
        logLevel: 'silent',
      });
      const code = r.outputFiles[0]!.contents;
      const res: BundleResult = { name, bytes: code.length };
      if (opts.load) {
        const file = join(outDir, `${name}.mjs`);
        writeFileSync(file, code);
        const saved = { ...process.env };
        Object.assign(process.env, LOAD_ENV);
        try {
          const mod = (await import(pathToFileURL(file).href)) as { handler?: unknown };
          if (typeof mod.handler !== 'function') res.error = 'bundle does not export a handler function';
          else res.loaded = true;
        } catch (err) {
          res.error = `bundle fails to load: ${err instanceof Error ? err.message : String(err)}`;
        } finally {
          for (const k of Object.keys(LOAD_ENV)) if (!(k in saved)) delete process.env[k];
          Object.assign(process.env, saved);
        }
      }
      results.push(res);
    } catch (err) {
      results.push({ name, error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    }
  }
  return results;
}

export function overBudget(results: readonly BundleResult[]): BundleResult[] {
  return results.filter((r) => r.error !== undefined || (r.bytes ?? 0) > BUNDLE_BUDGET_BYTES);
}

async function main(): Promise<void> {
  const results = await bundleAll({ load: process.argv.includes('--load') });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`handler           minified   (budget ${kb(BUNDLE_BUDGET_BYTES)})`);
  for (const r of results) {
    const size = r.bytes === undefined ? '-' : kb(r.bytes);
    const status = r.error ? `FAIL: ${r.error}` : (r.bytes ?? 0) > BUNDLE_BUDGET_BYTES ? 'FAIL: over budget' : 'ok';
    console.log(`${r.name.padEnd(17)} ${size.padStart(10)}   ${status}${r.loaded ? ' (loads)' : ''}`);
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

/**
 * Cost of reading hostile and large manifests: what `svcctl apply -f` does before it contacts anything (read the
 * YAML, decode each object, default and validate each Service), timed in a child process per run so that a crash
 * or a hang of one case is reported instead of ending the benchmark.
 *
 *   npx tsx bench/manifest.ts                       this checkout
 *   npx tsx bench/manifest.ts --root DIR --runs 1   another checkout's lib/model (e.g. main), same inputs
 *   npx tsx bench/manifest.ts --write DIR           only write the inputs (for whole-process timing of svcctl)
 *
 * Prints a Markdown table (median of --runs, default 5; --timeout seconds per run, default 120).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MiB = 1024 * 1024;

/** The inputs, each about 1 MiB unless said otherwise. */
function inputs(): Record<string, string> {
  const labels = (n: number) => Array.from({ length: n }, (_, i) => `    k${i}: v`).join('\n');
  const service = (labelLines: string) =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: big\n  labels:\n${labelLines}\nspec:\n  ports:\n  - port: 80\n`;
  const flow = Array.from({ length: 80_000 }, (_, i) => `k${i}: v`).join(', ');
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++)
    laughs.push(
      `l${i}: &l${i} [${Array(10)
        .fill(i === 1 ? '*a' : `*l${i - 1}`)
        .join(', ')}]`,
    );
  const small = (i: number) =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${i}\nspec:\n  ports:\n  - port: 80\n`;
  return {
    'Service, 80,000 labels (block mapping)': service(labels(80_000)),
    'Service, 80,000 labels, last one duplicated': `${service(labels(80_000))}`.replace(
      'spec:',
      '    k5: again\nspec:',
    ),
    'Service, 80,000 labels (flow mapping)': `apiVersion: v1\nkind: Service\nmetadata:\n  name: big\n  labels: {${flow}}\nspec:\n  ports:\n  - port: 80\n`,
    '1 MiB of nested [': `apiVersion: v1\nkind: Service\nmetadata: {name: x, labels: ${'['.repeat(MiB / 2)}${']'.repeat(MiB / 2)}}\n`,
    'Alias expansion ("billion laughs", 10^9 values)': `apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  x:\n${laughs.map((l) => `    ${l}`).join('\n')}\n`,
    'One document over 3 MiB': `apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  annotations:\n    a: ${'x'.repeat(3 * MiB)}\n`,
    '5,000 Services in one file': Array.from({ length: 5000 }, (_, i) => small(i)).join('---\n'),
  };
}

const fileName = (caseName: string) => `${caseName.replace(/\W+/g, '-').replace(/^-|-$/g, '')}.yaml`;

/** Child: parse (and default + validate Services) one file with the lib/model of `root`; print the result. */
async function child(file: string, root: string): Promise<void> {
  const lib = (m: string) => import(pathToFileURL(join(root, 'lib/model', m)).href);
  const { parseManifests } = await lib('manifest.ts');
  const { defaultService } = await lib('defaults.ts');
  const { validateService } = await lib('validation.ts');
  const { DEFAULT_CLUSTER_CONFIG } = await lib('types.ts');
  const text = readFileSync(file, 'utf8');
  const t0 = performance.now();
  let outcome: string;
  try {
    const objs = parseManifests(text, 'in.yaml') as { kind: string }[];
    let invalid = 0;
    for (const o of objs)
      if (o.kind === 'Service' && validateService(defaultService(o), DEFAULT_CLUSTER_CONFIG).length) invalid++;
    outcome = invalid ? `rejected: ${invalid} invalid` : `accepted (${objs.length})`;
  } catch (e) {
    outcome = `rejected: ${String((e as Error).message).slice(0, 90)}`;
  }
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, outcome }));
}

function run(file: string, root: string, timeoutS: number): { ms?: number; outcome: string } {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', file, '--root', root], {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    maxBuffer: 16 * MiB,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT')
    return { outcome: `no answer in ${timeoutS} s` };
  if (r.status !== 0) return { outcome: `process died (${r.signal ?? `exit ${r.status}`})` };
  return JSON.parse(r.stdout) as { ms: number; outcome: string };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: 'string', default: resolve(fileURLToPath(new URL('..', import.meta.url))) },
      runs: { type: 'string', default: '5' },
      timeout: { type: 'string', default: '120' },
      child: { type: 'string' },
      write: { type: 'string' },
    },
  });
  const root = resolve(values.root!);
  if (values.child) return child(values.child, root);
  if (values.write) {
    mkdirSync(values.write, { recursive: true });
    for (const [name, text] of Object.entries(inputs())) writeFileSync(join(values.write, fileName(name)), text);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-manifest-'));
  console.log(`| Input | Size | Outcome | parse + decode + validate (ms, median of ${values.runs}) |`);
  console.log('|---|---:|---|---:|');
  for (const [name, text] of Object.entries(inputs())) {
    const file = join(dir, fileName(name));
    writeFileSync(file, text);
    const results = Array.from({ length: Number(values.runs) }, () => run(file, root, Number(values.timeout)));
    const times = results.flatMap((r) => (r.ms === undefined ? [] : [r.ms])).sort((a, b) => a - b);
    const median = times.length ? times[Math.floor(times.length / 2)]!.toFixed(0) : '—';
    const size = `${(Buffer.byteLength(text) / MiB).toFixed(2)} MiB`;
    console.log(`| ${name} | ${size} | ${results[0]!.outcome.replace(/\|/g, '\\|')} | ${median} |`);
  }
}

await main();

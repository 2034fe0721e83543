// Bundles svcctl (tools/svcctl.ts and what it imports) with esbuild into dist/, so running svcctl transpiles nothing.
// Runs as npm's `prepare` (on `npm ci` / `npm install`); bin/svcctl.mjs runs it again when the bundle is missing or
// older than any of its inputs (a developer edited lib/ since), so the binary always runs the current sources.
//
// Output: dist/svcctl-<stamp>/ (ESM, code-split: each command's `import()` is its own chunk, so `svcctl get` never
// loads the AWS SDK or the local-system code) and dist/svcctl.json naming the current directory and every input
// with the build time. The pointer file is replaced atomically (rename), so concurrent svcctl processes each see one
// complete build; a build directory is removed only when it is several builds old.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const POINTER = join(DIST, 'svcctl.json');
const KEEP_BUILDS = 3;

function pruneOldBuilds(current) {
  const dirs = readdirSync(DIST)
    .filter((d) => d.startsWith('svcctl-') && d !== current)
    .map((d) => ({ d, t: statSync(join(DIST, d)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { d } of dirs.slice(KEEP_BUILDS - 1)) rmSync(join(DIST, d), { recursive: true, force: true });
}

export async function buildCli() {
  const started = Date.now();
  const dir = `svcctl-${started.toString(36)}-${process.pid}`;
  const outdir = join(DIST, dir);
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, 'tools/svcctl.ts')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Packages stay in node_modules and load as Node loads them (as under tsx): only our TypeScript is bundled, so
    // no CommonJS/ESM interop of a bundled dependency can differ from what the tests run.
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.startsWith('node_modules/'))
    .concat(['package-lock.json']);
  const pointer = {
    dir,
    entry: 'svcctl.mjs',
    builtAt: started,
    inputs: inputs.map((p) => relative(ROOT, join(ROOT, p))),
  };
  const tmp = `${POINTER}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(pointer) + '\n');
  renameSync(tmp, POINTER);
  pruneOldBuilds(dir);
  return pointer;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const p = await buildCli();
  console.error(`svcctl bundled into dist/${p.dir} (${p.inputs.length} source files)`);
}

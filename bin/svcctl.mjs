#!/usr/bin/env node
// svcctl entry point: runs the esbuild bundle in dist/ (built by `npm ci`'s prepare step, scripts/build-cli.mjs).
// When the bundle is missing, or any source it was built from changed since, it is rebuilt first: no TypeScript is
// transpiled while a command runs, and the binary never runs stale code. Checking costs one stat per source file.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const POINTER = join(ROOT, 'dist', 'svcctl.json');

function currentBuild() {
  let p;
  try {
    p = JSON.parse(readFileSync(POINTER, 'utf8'));
    statSync(join(ROOT, 'dist', p.dir, p.entry));
  } catch {
    return undefined;
  }
  for (const f of p.inputs) {
    try {
      if (statSync(join(ROOT, f)).mtimeMs > p.builtAt) return undefined;
    } catch {
      return undefined; // a source was removed or renamed
    }
  }
  return p;
}

let build = currentBuild();
if (!build) {
  let buildCli;
  try {
    ({ buildCli } = await import('../scripts/build-cli.mjs'));
  } catch (err) {
    console.error(`error: svcctl is not built and cannot be built here (${err.message}); run \`npm ci\` first`);
    process.exit(1);
  }
  build = await buildCli();
}
await import(pathToFileURL(join(ROOT, 'dist', build.dir, build.entry)).href);

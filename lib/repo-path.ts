/**
 * Files this repository ships next to its code (moto's launcher, the node agent, the local relay and demo server),
 * found from the running module whether it runs from its source (tsx, vitest) or from svcctl's bundle in dist/:
 * the nearest directory above this module holding both package.json and bin/svcctl.mjs. Resolved on first use, so
 * a Lambda bundle, which never asks, does not need the repository.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'svcctl.mjs'))) return (root = dir);
    dir = dirname(dir);
  }
  throw new Error(`cannot find the repository root above ${fileURLToPath(import.meta.url)}`);
}

/** `rel` (e.g. `tools/local/moto_server.py`) inside the repository. */
export const repoPath = (rel: string): string => join(repoRoot(), rel);

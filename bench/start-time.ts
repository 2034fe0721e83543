/**
 * `npm start` time to ready: runs `node bin/svcctl.mjs local up` (what `npm start` runs) in a checkout, on a fresh
 * local state each time (it starts its own moto server, as on a fresh machine), and times it until it prints
 * "Running." (the demo's requests answered), then stops it with SIGINT. Prints each run and the median, with the
 * time each step started (the lines svcctl prints with "…").
 *
 *   npx tsx bench/start-time.ts [--runs N] [--dir CHECKOUT]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string' }, dir: { type: 'string' } } });
const dir = resolve(values.dir ?? '.');
const runs = Number(values.runs ?? 5);

async function once(): Promise<{ ready: number; steps: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'ssc-start-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/svcctl.mjs', 'local', 'up'], {
    cwd: dir,
    env: { ...process.env, SVCCTL_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const steps: string[] = [];
  let ready = -1;
  const at = () => ((performance.now() - t0) / 1000).toFixed(1);
  child.stderr.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l.startsWith('…')) steps.push(`${at()} s ${l}`);
  });
  child.stdout.on('data', (d: Buffer) => {
    if (ready < 0 && d.toString().includes('Running.')) {
      ready = (performance.now() - t0) / 1000;
      child.kill('SIGINT');
    }
  });
  const timer = setTimeout(() => child.kill('SIGINT'), 300_000);
  await new Promise((r) => child.on('close', r));
  clearTimeout(timer);
  rmSync(home, { recursive: true, force: true });
  if (ready < 0) throw new Error(`never ready:\n${steps.join('\n')}`);
  return { ready, steps };
}

const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  times.push(r.ready);
  console.log(`run ${i + 1}: ready after ${r.ready.toFixed(1)} s`);
  if (i === 0) console.log(r.steps.map((s) => `  ${s}`).join('\n'));
}
const sorted = [...times].sort((a, b) => a - b);
console.log(
  `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} s (min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)})`,
);

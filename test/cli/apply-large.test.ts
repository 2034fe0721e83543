/**
 * `svcctl apply` of a large file (issue 11: bounded cost for bad input), the real binary against the API server on
 * the real backend, every request it sends seen by the server's hook: what exists is read with one LIST per
 * (resource, namespace) instead of one GET per object, a bad last object still refuses the whole file and changes
 * nothing, and the output keeps file order although requests are answered out of order.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubeconfigYaml } from '../../tools/local/api-server.js';
import type { ApiRequest } from '../../lib/apiserver/http/types.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { runBinary } from '../support/cli.js';
import { resourceOf } from '../support/registry.js';

// 200: moto copies the whole table on every transaction (4 items each), so creates cost more the fuller it is.
const COUNT = 200;
let api: TestApi;
let dir: string;
let env: NodeJS.ProcessEnv;
/** Requests the server saw: `METHOD path[?dryRun]`. */
let seen: string[] = [];
/** Their indexes in `seen`, in the order the server went on to handle them (after any hold). */
let handled: number[] = [];
/** How long to hold a request before the server handles it (ms), by its key and how many came before it. */
let hold: (key: string) => number = () => 0;

async function onRequest(req: ApiRequest): Promise<void> {
  const key = `${req.method} ${req.path}${req.query.get('dryRun') ? ' dry' : ''}`;
  const index = seen.push(key) - 1;
  const ms = hold(key);
  if (ms) await new Promise((r) => setTimeout(r, ms));
  handled.push(index);
}

/** Holds the first request of each given key by `ms`: its answer comes back after those sent after it. */
function holdFirst(keys: string[], ms: number): void {
  const pending = new Set(keys);
  hold = (key) => (pending.delete(key) ? ms : 0);
}

beforeAll(async () => {
  api = await startTestApi({}, onRequest);
  dir = mkdtempSync(join(tmpdir(), 'apply-large-'));
  // Not $SVCCTL_HOME/kubeconfig: that path is the local system's, which svcctl would start.
  const kubeconfig = join(dir, 'test-api.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml({ server: api.url, token: api.tokens.admin, caCert: api.caCert }));
  env = { ...process.env, SVCCTL_HOME: dir, KUBECONFIG: kubeconfig };
}, 60_000);

afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen = [];
  handled = [];
  hold = () => 0;
});

const svc = (name: string, ns?: string, spec = '{selector: {app: web}, ports: [{port: 80}]}') =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}${ns ? `, namespace: ${ns}` : ''}}\nspec: ${spec}\n`;
const names = (n: number, prefix = 'svc') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

function manifest(name: string, docs: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, docs.join('---\n'));
  return file;
}

async function storedServices(ns: string): Promise<string[]> {
  return (await api.backend.list(resourceOf('services'), ns)).items.map((o) => o.metadata.name!).sort();
}

const count = (pred: (k: string) => boolean) => seen.filter(pred).length;
const objectGets = () => count((k) => /^GET \/api\/v1\/namespaces\/[^/]+\/services\/./.test(k));
const lists = () => count((k) => /^GET \/api\/v1\/namespaces\/[^/]+\/services$/.test(k));

describe('svcctl apply of a file of a few hundred objects', () => {
  it('the last object invalid: refused as before, nothing written, no GET per object', async () => {
    const docs = names(COUNT).map((n) => svc(n));
    docs[COUNT - 1] = svc(`svc-${COUNT - 1}`, undefined, '{type: NodePort, ports: [{port: 80, nodePort: 29999}]}');
    const file = manifest('bad-last.yaml', docs);
    const r = await runBinary(env, ['apply', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `The Service "svc-${COUNT - 1}" is invalid: spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767\n`,
    );
    expect(await storedServices('default')).toEqual([]);
    expect(objectGets()).toBe(0);
    expect(lists()).toBe(1);
    expect(count((k) => k.startsWith('POST') && !k.endsWith(' dry'))).toBe(0);
    expect(count((k) => k.endsWith(' dry'))).toBe(COUNT);
  }, 120_000);

  it('all valid: created, printed in file order though the first answers come back last', async () => {
    const collection = 'POST /api/v1/namespaces/default/services';
    holdFirst([`${collection} dry`, collection], 400);
    const file = manifest(
      'good.yaml',
      names(COUNT).map((n) => svc(n)),
    );
    const r = await runBinary(env, ['apply', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      names(COUNT)
        .map((n) => `service/${n} created\n`)
        .join(''),
    );
    expect(await storedServices('default')).toEqual(names(COUNT).sort());
    // The first dry run and the first write (svc-0's, sent first) were handled after later ones: the answers did
    // come back out of file order.
    for (const key of [`${collection} dry`, collection]) {
      const order = handled.filter((i) => seen[i] === key);
      expect(order).toHaveLength(COUNT);
      expect(order[0]).not.toBe(seen.indexOf(key));
    }
    expect(objectGets()).toBe(0);
    expect(lists()).toBe(1);
  }, 240_000);

  it('the same file again: unchanged, one LIST and nothing else per object', async () => {
    const r = await runBinary(env, ['apply', '-f', join(dir, 'good.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      names(COUNT)
        .map((n) => `service/${n} unchanged\n`)
        .join(''),
    );
    expect(seen.filter((k) => k.includes('/services'))).toEqual(['GET /api/v1/namespaces/default/services']);
  }, 240_000);

  it('a Namespace and the objects in it: dry-run in default, written after their Namespace', async () => {
    const inTeam = names(20, 'team-svc');
    const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n';
    const file = manifest('namespace.yaml', [ns, ...inTeam.map((n) => svc(n, 'team-a'))]);
    // The Namespace's write is held: the Services in it must wait for it, or they would be refused (NotFound).
    holdFirst(['POST /api/v1/namespaces'], 400);
    const r = await runBinary(env, ['apply', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(['namespace/team-a created', ...inTeam.map((n) => `service/${n} created`), ''].join('\n'));
    expect(await storedServices('team-a')).toEqual(inTeam.sort());
    expect(count((k) => k === 'POST /api/v1/namespaces/default/services dry')).toBe(inTeam.length);
    expect(count((k) => k === 'POST /api/v1/namespaces/team-a/services dry')).toBe(0);
  }, 120_000);
});

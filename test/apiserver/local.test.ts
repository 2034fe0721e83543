/**
 * Local mode's front door: HTTPS on loopback with a per-run certificate and token, and a kubeconfig (mode 0600)
 * that the real kubectl uses as it is; a request without the token is refused.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveLocalApi, type LocalApi } from '../../tools/local/api-server.js';
import { createTestBackend, type TestBackend } from '../support/test-backend.js';

let api: LocalApi;
let tb: TestBackend;
const dir = mkdtempSync(join(tmpdir(), 'local-api-'));
const kubeconfig = join(dir, 'kubeconfig');

beforeAll(async () => {
  tb = await createTestBackend();
  api = await serveLocalApi({ backend: tb.backend, kubeconfigPath: kubeconfig });
});
afterAll(async () => {
  await api?.close();
  tb?.closeBackend();
});

const status = (headers: Record<string, string>) =>
  new Promise<number>((resolve, reject) => {
    const req = request(`${api.url}/api/v1/namespaces`, { ca: api.caCert, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });

describe('serveLocalApi', () => {
  it('serves HTTPS on 127.0.0.1 and writes a private kubeconfig kubectl uses unchanged', async () => {
    expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache') };
    const res = await promisify(execFile)('kubectl', ['get', 'namespaces', '-o', 'name'], { env, encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.stdout).toContain('namespace/default\n');
  });

  it('refuses requests without the run token', async () => {
    expect(await status({})).toBe(401);
    expect(await status({ authorization: 'Bearer not-the-token' })).toBe(401);
    expect(await status({ authorization: `Bearer ${api.token}` })).toBe(200);
  });
});

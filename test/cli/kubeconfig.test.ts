/** kubeconfig files as kubectl reads them: merged path lists, contexts, relative files, token files, selection. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeconfigError, kubeconfigPaths, loadKubeconfig } from '../../tools/cli/kube/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const a = file(
  'a.yaml',
  `apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster: {server: "https://one.example:6443/", certificate-authority: ca.pem}
users:
- name: u1
  user: {tokenFile: token.txt}
contexts:
- name: one
  context: {cluster: c1, user: u1}
- name: two
  context: {cluster: c2, user: u2, namespace: shop}
`,
);
// A second file: contributes c2/u2; its current-context loses to the first file's.
const b = file(
  'b.json',
  JSON.stringify({
    'current-context': 'two',
    clusters: [
      { name: 'c1', cluster: { server: 'https://ignored' } },
      { name: 'c2', cluster: { server: 'https://two.example', 'insecure-skip-tls-verify': true } },
    ],
    users: [
      {
        name: 'u2',
        user: { exec: { command: 'svcctl', args: ['token'], apiVersion: 'client.authentication.k8s.io/v1beta1' } },
      },
    ],
  }),
);
file('ca.pem', 'PEM');
file('token.txt', 'sekret\n');

describe('kubeconfig', () => {
  it('merges a path list with the first file winning; relative files resolve next to their kubeconfig', () => {
    const k = loadKubeconfig([a, b]);
    expect(k).toMatchObject({
      contextName: 'one',
      server: 'https://one.example:6443',
      ca: 'PEM',
      token: 'sekret',
      namespace: 'default',
    });
  });

  it('--context picks another context, from whichever file defines its pieces', () => {
    const k = loadKubeconfig([a, b], { context: 'two' });
    expect(k).toMatchObject({ server: 'https://two.example', insecure: true, namespace: 'shop' });
    expect(k.exec).toEqual({ command: 'svcctl', args: ['token'], apiVersion: 'client.authentication.k8s.io/v1beta1' });
  });

  it("refuses what kubectl refuses, in kubectl's words", () => {
    expect(() => loadKubeconfig([a], { context: 'nope' })).toThrow(
      new KubeconfigError('error: context "nope" does not exist'),
    );
    expect(() => loadKubeconfig([join(dir, 'missing')])).toThrow(/no such file or directory/);
  });

  it('--kubeconfig, else $KUBECONFIG (a list), else the local one', () => {
    expect(kubeconfigPaths('f', 'x:y', 'local')).toEqual(['f']);
    expect(kubeconfigPaths(undefined, 'x::y', 'local')).toEqual(['x', 'y']);
    expect(kubeconfigPaths(undefined, '', 'local')).toEqual(['local']);
  });
});

/** Shared by the cluster-mode tests: how the watcher reaches the test "cluster", and its Node objects. */
import { KubeConfig, type V1Node } from '@kubernetes/client-node';
import type { TestApi } from '../support/api-server.js';

/** The kubeconfig a cluster's admin would hand over (a token user), for client-node. */
export function kubeConfigFor(api: TestApi, token = api.tokens.admin): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: api.url, caData: Buffer.from(api.caCert).toString('base64') }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

/** The Node object the cluster's kubelet (and cloud-provider-aws) register for an instance. */
export function clusterNode(name: string, instanceId: string, labels: Record<string, string> = {}): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: { providerID: `aws:///us-east-1a/${instanceId}` },
  } as V1Node;
}

/** Shared fixtures for data-plane tests: a small cluster state and traffic helpers (bounded loops, test-owned addresses). */
import type { DataPlaneState } from '../../lib/dataplane/render/state.js';
import { DEFAULT_CLUSTER_CONFIG, type Endpoint, type NodeInfo, type StoredService } from '../../lib/model/types.js';

export const svc = (name: string, spec: StoredService['spec'], namespace = 'default'): StoredService => ({
  metadata: { namespace, name },
  spec,
});

export const ep = (ip: string, nodeName: string, ports: Endpoint['ports'], ready = true): Endpoint => ({
  ip,
  nodeName,
  ready,
  terminating: false,
  ports,
});

export const node = (name: string, instanceId: string, privateIp: string): NodeInfo => ({
  name,
  instanceId,
  privateIp,
  availabilityZone: 'us-east-1a',
  state: 'running',
  labels: {},
});

/** Pods: a1, a2 on node-1 (10.244.1.2/.3), b1 on node-2 (10.244.2.2). */
export function clusterState(): DataPlaneState {
  const http = [{ name: 'http', port: 8080, protocol: 'TCP' as const }];
  const unnamed = [{ name: '', port: 8080, protocol: 'TCP' as const }];
  const all = (ports: Endpoint['ports']) => [
    ep('10.244.1.2', 'node-1', ports),
    ep('10.244.1.3', 'node-1', ports),
    ep('10.244.2.2', 'node-2', ports),
  ];
  return {
    cfg: { ...DEFAULT_CLUSTER_CONFIG },
    nodes: [node('node-1', 'i-00000000000000001', '172.31.0.11'), node('node-2', 'i-00000000000000002', '172.31.0.12')],
    services: [
      svc('kubernetes', {
        type: 'ClusterIP',
        clusterIP: '10.96.0.1',
        ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
      }),
      svc('web', {
        type: 'NodePort',
        clusterIP: '10.96.0.10',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080, targetPort: 'http' as never }],
      }),
      svc('loc', {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.11',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32001,
        ports: [{ port: 80, protocol: 'TCP', nodePort: 30081 }],
      }),
      svc('aff', {
        type: 'ClusterIP',
        clusterIP: '10.96.0.12',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
        ports: [{ port: 80, protocol: 'TCP' }],
      }),
      svc('empty', { type: 'ClusterIP', clusterIP: '10.96.0.13', ports: [{ port: 80, protocol: 'TCP' }] }),
      svc('ext', { type: 'ExternalName', externalName: 'db.example.test', ports: [{ port: 5432, protocol: 'TCP' }] }),
      svc('headless', { type: 'ClusterIP', clusterIP: 'None', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }),
      svc(
        'my-db',
        { type: 'ClusterIP', clusterIP: '10.96.5.5', ports: [{ name: 'pg-main', port: 5432, protocol: 'TCP' }] },
        'team-a',
      ),
    ],
    endpoints: [
      { namespace: 'default', name: 'web', endpoints: all(http) },
      { namespace: 'default', name: 'loc', endpoints: [ep('10.244.1.2', 'node-1', unnamed)] },
      { namespace: 'default', name: 'aff', endpoints: all(unnamed) },
      { namespace: 'default', name: 'empty', endpoints: [ep('10.244.1.3', 'node-1', unnamed, false)] },
      {
        namespace: 'default',
        name: 'headless',
        endpoints: [ep('10.244.1.2', 'node-1', http), ep('10.244.2.2', 'node-2', http)],
      },
    ],
  };
}

/** TCP echo server: answers each connection with "<name> <peer address>". */
export const ECHO_SERVER = `
import socket, sys
name, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port)); s.listen(128)
while True:
    c, a = s.accept()
    try: c.sendall(("%s %s\\n" % (name, a[0])).encode())
    finally: c.close()
`;

/** Connects `count` times (bounded) and prints one line per attempt: the reply, REFUSED, TIMEOUT or ERROR. */
export const CLIENT = `
import socket, sys, time
host, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
for _ in range(count):
    t0 = time.time()
    try:
        c = socket.create_connection((host, port), timeout=timeout)
        c.settimeout(timeout)
        print(c.recv(200).decode().strip() + " %.4f" % (time.time() - t0))
        c.close()
    except ConnectionRefusedError: print("REFUSED %.4f" % (time.time() - t0))
    except socket.timeout: print("TIMEOUT %.4f" % (time.time() - t0))
    except OSError as e: print("ERROR %s" % e.errno)
`;

/** Minimal HTTP GET returning "<status> <body>". */
export const HTTP_GET = `
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=3)
c.request("GET", "/healthz"); r = c.getresponse(); print(r.status, r.read().decode())
`;

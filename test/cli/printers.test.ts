import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import {
  describeService,
  formatEndpoints,
  humanDuration,
  printPods,
  printServices,
  servicePorts,
  serviceExternalIp,
  tabulate,
} from '../../lib/cli/printers.js';

const now = new Date('2026-11-21T12:00:00Z');
const created = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000);

const nodePort: V1Service = {
  metadata: { name: 'hellok8s-svc', namespace: 'default', creationTimestamp: created(5) },
  spec: {
    type: 'NodePort',
    clusterIP: '10.102.141.32',
    selector: { app: 'hellok8s' },
    ports: [{ port: 4567, nodePort: 30001, protocol: 'TCP', targetPort: 4567 as never }],
  },
};
const nginx: V1Service = {
  metadata: { name: 'nginx', namespace: 'default', creationTimestamp: created(5) },
  spec: {
    type: 'ClusterIP',
    clusterIP: '10.96.0.20',
    selector: { app: 'nginx' },
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'https', port: 8443, protocol: 'TCP' },
    ],
  },
};
const db: V1Service = {
  metadata: { name: 'db', namespace: 'default', creationTimestamp: created(5) },
  spec: { type: 'ExternalName', externalName: 'my-db.company.com' },
};
const lb: V1Service = {
  metadata: { name: 'web', namespace: 'default', creationTimestamp: created(5) },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.30', ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
};

describe('kubectl get services layout', () => {
  it('prints the rows kubectl prints for the seed examples', () => {
    expect(printServices([nodePort, nginx, db, lb], { now })).toBe(
      [
        'NAME           TYPE           CLUSTER-IP      EXTERNAL-IP         PORT(S)             AGE',
        'hellok8s-svc   NodePort       10.102.141.32   <none>              4567:30001/TCP      5s',
        'nginx          ClusterIP      10.96.0.20      <none>              8080/TCP,8443/TCP   5s',
        'db             ExternalName   <none>          my-db.company.com   <none>              5s',
        'web            LoadBalancer   10.96.0.30      <pending>           80:31000/TCP        5s',
        '',
      ].join('\n'),
    );
  });

  it('adds NAMESPACE first with -A and SELECTOR last with -o wide', () => {
    const out = printServices([nodePort], { now, wide: true, allNamespaces: true });
    const [header, row] = out.split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'NAMESPACE',
      'NAME',
      'TYPE',
      'CLUSTER-IP',
      'EXTERNAL-IP',
      'PORT(S)',
      'AGE',
      'SELECTOR',
    ]);
    expect(row!.split(/\s{2,}/)).toEqual([
      'default',
      'hellok8s-svc',
      'NodePort',
      '10.102.141.32',
      '<none>',
      '4567:30001/TCP',
      '5s',
      'app=hellok8s',
    ]);
  });

  it('shows the load balancer hostname once status has it', () => {
    const withHost = {
      ...lb,
      status: { loadBalancer: { ingress: [{ hostname: 'k8s-default-web-abc.elb.us-east-1.amazonaws.com' }] } },
    };
    expect(serviceExternalIp(withHost)).toBe('k8s-default-web-abc.elb.us-east-1.amazonaws.com');
    expect(servicePorts({ spec: { ports: [] } })).toBe('<none>');
  });

  it('headless services print None', () => {
    expect(printServices([{ ...nginx, spec: { ...nginx.spec, clusterIP: 'None' } }], { now }).split('\n')[1]).toContain(
      'None',
    );
  });
});

describe('helpers', () => {
  it.each([
    [0, '0s'],
    [119, '119s'],
    [120, '2m'],
    [125, '2m5s'],
    [600, '10m'],
    [3 * 3600, '3h'],
    [3 * 3600 + 60, '3h1m'],
    [8 * 3600, '8h'],
    [50 * 3600, '2d2h'],
    [10 * 86400, '10d'],
    [3 * 365 * 86400 + 86400, '3y1d'],
  ])('humanDuration(%is) = %s', (s, want) => {
    expect(humanDuration(s * 1000)).toBe(want);
  });

  it('tabulate pads to the widest cell plus three, never below six', () => {
    expect(
      tabulate([
        ['A', 'B'],
        ['xy', 'z'],
      ]),
    ).toBe('A     B\nxy    z\n');
  });

  it('formatEndpoints truncates after three like kubectl', () => {
    const eps = {
      namespace: 'default',
      name: 'x',
      endpoints: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'].map((ip) => ({
        ip,
        ready: true,
        terminating: false,
        ports: [{ name: '', port: 80, protocol: 'TCP' as const }],
      })),
    };
    expect(formatEndpoints(eps)).toBe('10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...');
    expect(formatEndpoints({ ...eps, endpoints: [] })).toBe('<none>');
  });

  it('prints pods like kubectl get pods', () => {
    const out = printPods(
      [
        {
          metadata: { name: 'hello-1', creationTimestamp: created(65) },
          spec: { containers: [{ name: 'c' }] },
          status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
        },
      ],
      { now },
    );
    expect(out).toBe('NAME      READY   STATUS    RESTARTS   AGE\nhello-1   1/1     Running   0          65s\n');
  });

  it('describes a service like kubectl describe', () => {
    const text = describeService(nodePort, {
      namespace: 'default',
      name: 'hellok8s-svc',
      endpoints: [
        { ip: '10.244.1.5', ready: true, terminating: false, ports: [{ name: '', port: 4567, protocol: 'TCP' }] },
      ],
    });
    expect(text).toContain('Name:                     hellok8s-svc\n');
    expect(text).toContain('Selector:                 app=hellok8s\n');
    expect(text).toContain('NodePort:                 <unset>  30001/TCP\n');
    expect(text).toContain('Endpoints:                10.244.1.5:4567\n');
    expect(text).toContain('External Traffic Policy:  Cluster\n');
  });
});

/**
 * TLS listeners with several certificates (`aws-load-balancer-ssl-cert` lists ARNs): the first is the listener's
 * default certificate, the others are added as extra (SNI) certificates, and changes converge both ways.
 * Against moto, whose ELBv2 checks that certificates exist in ACM.
 */
import { ACMClient, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { Throttle } from '../../lib/aws/throttle.js';
import { planService, reconcileService } from '../../lib/lb/index.js';
import { listenerCertificates } from '../../lib/lb/observe.js';
import { sameCertificates } from '../../lib/lb/plan/listener.js';
import { ensureLocalClusterAws } from '../../tools/local/cluster-aws.js';
import { defaultService } from '../../lib/model/defaults.js';
import { motoClients, uniqueName } from '../support/aws.js';

describe('sameCertificates', () => {
  it('compares the default and the set of extras', () => {
    expect(sameCertificates(['a', 'b', 'c'], ['a', 'c', 'b'])).toBe(true);
    expect(sameCertificates(['a', 'b'], ['b', 'a'])).toBe(false);
    expect(sameCertificates(['a'], ['a', 'b'])).toBe(false);
    expect(sameCertificates([], [])).toBe(true);
  });
});

describe('TLS listener certificates against moto', () => {
  it('adds extra certificates, then removes one when the annotation drops it', async () => {
    const clients = motoClients();
    const acm = new ACMClient({ region: 'us-east-1' });
    const certs: string[] = [];
    for (const d of ['a.example.test', 'b.example.test', 'c.example.test'])
      certs.push((await acm.send(new RequestCertificateCommand({ DomainName: d }))).CertificateArn!);
    const cluster = uniqueName('tls');
    const aws = await ensureLocalClusterAws(clients.ec2, cluster, 'us-east-1');
    const ctx = {
      clients: { ec2: clients.ec2, elbv2: clients.elbv2 },
      clusterName: cluster,
      vpcId: aws.vpcId,
      nlbQuota: 50,
      throttle: new Throttle(),
    };
    const svc = (arns: string[]) =>
      defaultService({
        metadata: {
          name: 'secure',
          namespace: 'default',
          uid: '21111111-2222-3333-4444-555555555555',
          annotations: {
            'service.beta.kubernetes.io/aws-load-balancer-ssl-cert': arns.join(','),
            'service.beta.kubernetes.io/aws-load-balancer-ssl-ports': '443',
          },
        },
        spec: { type: 'LoadBalancer', clusterIP: '10.96.0.88', ports: [{ name: 'https', port: 443, nodePort: 30443 }] },
      });

    const st = await reconcileService(ctx, svc(certs), []);
    expect(st.error).toBeUndefined();
    const { DescribeLoadBalancersCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const lb = ((await clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? []).find(
      (l) => l.DNSName === st.hostname,
    )!;
    const listener = (await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
      .Listeners![0]!;
    expect(listener.Protocol).toBe('TLS');
    expect(await listenerCertificates(ctx, listener.ListenerArn!)).toEqual([certs[0], ...certs.slice(1).sort()]);
    expect((await planService(ctx, svc(certs), [])).actions).toEqual([]);

    // Drop the last certificate: planned as a listener update, applied as RemoveListenerCertificates.
    const fewer = certs.slice(0, 2);
    const plan = await planService(ctx, svc(fewer), []);
    expect(plan.actions.map((a) => `${a.op} ${a.kind}`)).toEqual(['update Listener']);
    expect((await reconcileService(ctx, svc(fewer), [])).error).toBeUndefined();
    expect(await listenerCertificates(ctx, listener.ListenerArn!)).toEqual(fewer);
    expect((await planService(ctx, svc(fewer), [])).actions).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { CreateVpcCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { motoClients } from '../support/aws.js';

describe('AWS clients', () => {
  it('honour AWS_ENDPOINT_URL (they reach the moto server)', async () => {
    const { ec2 } = motoClients();
    const created = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }));
    const vpcs = await ec2.send(new DescribeVpcsCommand({ VpcIds: [created.Vpc!.VpcId!] }));
    expect(vpcs.Vpcs?.[0]?.CidrBlock).toBe('10.42.0.0/16');
  });

  it('honour the per-service variant AWS_ENDPOINT_URL_EC2 over the global one', async () => {
    const saved = { ...process.env };
    try {
      const { ec2 } = motoClients();
      const good = process.env.AWS_ENDPOINT_URL!;
      process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'; // nothing listens on the discard port
      process.env.AWS_ENDPOINT_URL_EC2 = good;
      const { makeClients } = await import('../../lib/aws/clients.js');
      const c = makeClients({ maxAttempts: 1 });
      const vpcs = await c.ec2.send(new DescribeVpcsCommand({}));
      expect(Array.isArray(vpcs.Vpcs)).toBe(true);
      void ec2;
    } finally {
      process.env = saved;
    }
  });
});

/**
 * svcctl against a "deployed stack" (table and bus by flags; here they live in the test run's moto): it allocates
 * from the cluster settings the controller published in the table, and publishes each change on the bus in the
 * documented envelope.
 */
import { CreateEventBusCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_CONFIG_RECORD } from '../../lib/controller/controller.js';
import { Store } from '../../lib/store/store.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { cliEnv, type CliEnv } from '../support/cli.js';

const clients = motoClients();
const table = uniqueName('deployed');
const bus = uniqueName('bus');
let queueUrl = '';
let cli: CliEnv;

beforeAll(async () => {
  await ensureTable(clients.dynamodb, table);
  await new Store(clients.dynamodb, table).putRecord(CLUSTER_CONFIG_RECORD.kind, CLUSTER_CONFIG_RECORD.id, {
    clusterName: 'prod',
    serviceCidr: '10.200.0.0/16',
    nodePortRange: { min: 31000, max: 31999 },
    clusterDomain: 'cluster.local',
  });
  await clients.eventbridge.send(new CreateEventBusCommand({ Name: bus }));
  queueUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: bus }))).QueueUrl!;
  const arn = (
    await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  await clients.eventbridge.send(
    new PutRuleCommand({
      Name: bus,
      EventBusName: bus,
      EventPattern: JSON.stringify({ source: ['serverless-service-controller'] }),
    }),
  );
  await clients.eventbridge.send(
    new PutTargetsCommand({ Rule: bus, EventBusName: bus, Targets: [{ Id: 'q', Arn: arn }] }),
  );
  cli = cliEnv();
});

describe('svcctl --table --bus', () => {
  it('allocates from the published cluster settings and publishes the change event', async () => {
    // hellok8s-svc asks for nodePort 30001, outside this cluster's published 31000-31999: rejected, nothing stored.
    const bad = await cli.run(['--table', table, '--bus', bus, 'apply', '-f', 'examples/hellok8s-svc.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'The Service "hellok8s-svc" is invalid: spec.ports[0].nodePort: Invalid value: 30001: provided port is not in the valid range. The range of valid ports is 31000-31999\n',
    );
    const r = await cli.run(['--table', table, '--bus', bus, 'apply', '-f', 'examples/nginx-clusterip.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('service/nginx created\n');
    const get = await cli.run(['--table', table, '--bus', bus, 'get', 'service', 'nginx', '-o', 'json']);
    expect(JSON.parse(get.stdout).spec.clusterIP).toMatch(/^10\.200\.\d+\.\d+$/);
    const msgs =
      (
        await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
        )
      ).Messages ?? [];
    const events = msgs.map((m) => JSON.parse(m.Body!));
    expect(events.map((e) => e['detail-type'])).toEqual(['Service Change']);
    const nginx = events[0];
    expect(nginx.detail.type).toBe('ADDED');
    expect(nginx.resources).toEqual(['k8s:service:default/nginx']);
    expect(nginx.detail.object.metadata.resourceVersion).toBe('1');
  });

  it('before the controller published its settings, warns and allocates from SERVICE_CIDR', async () => {
    const fresh = uniqueName('unpublished');
    await ensureTable(clients.dynamodb, fresh);
    const env = cliEnv();
    env.env.SERVICE_CIDR = '10.201.0.0/16';
    const r = await env.run(['--table', fresh, '--bus', bus, 'apply', '-f', 'examples/nginx-clusterip.yaml']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: the controller has not published its cluster settings in ${fresh} yet`);
    expect(r.stderr).toContain('SERVICE_CIDR=10.201.0.0/16 NODE_PORT_RANGE=30000-32767');
    const get = await env.run(['--table', fresh, '--bus', bus, 'get', 'service', 'nginx', '-o', 'json']);
    expect(JSON.parse(get.stdout).spec.clusterIP).toMatch(/^10\.201\.\d+\.\d+$/);
  });
});

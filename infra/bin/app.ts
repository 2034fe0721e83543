/**
 * CDK app entry (cdk.json "app": `npx tsx infra/bin/app.ts`). Settings come from context: cdk.json's "context"
 * block, overridden on the command line, e.g. `npx cdk deploy -c clusterName=prod -c vpcId=vpc-... -c subnetIds=a,b`.
 * cdk-nag's AwsSolutions pack runs on every synth; an unacknowledged finding fails the synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveConfig } from '../lib/config.js';
import { propsFromContext } from '../lib/context.js';
import { ServiceControllerStack } from '../lib/stack.js';

const app = new App();
const controller = propsFromContext((k) => app.node.tryGetContext(k));
try {
  // Validate before building anything so a bad -c value prints one clear message, not a construct stack trace.
  resolveConfig(controller, 'context');
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
// CloudFormation stack names allow [A-Za-z0-9-] only; cluster names may also contain '_'.
const stackName =
  (app.node.tryGetContext('stackName') as string | undefined) ??
  `ServiceController-${controller.clusterName.replace(/_/g, '-')}`;
new ServiceControllerStack(app, stackName, { controller });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();

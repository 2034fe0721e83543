/**
 * The deployable stack: one ServiceController plus the cdk-nag acknowledgements, each with the specific reason the
 * finding does not apply. The stack takes no `env`: it synthesizes without credentials or lookups, and deploys to
 * whatever account/region the CLI is pointed at.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ssmDocumentContent } from '../../lib/dataplane/ssm-document.js';
import type { ServiceControllerProps } from './config.js';
import { ServiceController } from './service-controller.js';
import { acknowledgeNagFindings } from './nag.js';

export interface ServiceControllerStackProps extends StackProps {
  readonly controller: ServiceControllerProps;
}

export class ServiceControllerStack extends Stack {
  readonly controller: ServiceController;

  constructor(scope: Construct, id: string, props: ServiceControllerStackProps) {
    super(scope, id, {
      description: `serverless-service-controller for Kubernetes cluster ${props.controller.clusterName}`,
      ...props,
    });
    this.controller = new ServiceController(this, 'Controller', {
      ...props.controller,
      ssmDocumentContent: ssmDocumentContent() as unknown as Record<string, unknown>,
    });
    acknowledgeNagFindings(this.controller);
  }
}

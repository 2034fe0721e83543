/**
 * The Auto Scaling client: only the node-events function sends with it (CompleteLifecycleAction), so it is built
 * here rather than in lib/aws/clients.ts, and the other function bundles never load the package.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { config, withMiddleware, type ClientOptions } from './client-config.js';

export function makeAutoScalingClient(opts: ClientOptions = {}): AutoScalingClient {
  return withMiddleware(new AutoScalingClient(config(opts)), opts.middleware);
}

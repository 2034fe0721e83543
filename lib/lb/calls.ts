/**
 * Every AWS call of the load-balancer pipeline goes through here: ELBv2 calls take a token from the client-side
 * bucket first (lib/aws/throttle.ts), and AWS errors are turned into controller errors in ONE place (`classify`).
 */
import type { Command, MetadataBearer } from '@smithy/types';
import { ControllerError, PermanentError, RequeueError, TransientError } from '../errors.js';
import type { LoadBalancerContext } from './context.js';

// @smithy/types is the SDK's own type package (a dependency of every @aws-sdk client); only its Command type is used,
// to give the wrappers below the same input -> output typing as client.send.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand<O> = Command<any, any, any, O & MetadataBearer, any>;

/** ELBv2 call behind the token bucket of its operation. */
export async function elb<O>(ctx: LoadBalancerContext, cmd: AnyCommand<O>): Promise<O> {
  await ctx.throttle.take(cmd.constructor.name);
  return (await (ctx.clients.elbv2 as unknown as Sender).send(cmd)) as O;
}

/** EC2 calls are few per pass (subnets, security groups): the SDK's adaptive retry is enough. */
export async function ec2<O>(ctx: LoadBalancerContext, cmd: AnyCommand<O>): Promise<O> {
  return (await (ctx.clients.ec2 as unknown as Sender).send(cmd)) as O;
}
interface Sender {
  send(cmd: unknown): Promise<unknown>;
}

export function awsCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string };
  return e?.Code ?? e?.code ?? e?.name ?? '';
}

/**
 * Maps an AWS error raised while doing `what` to a ControllerError:
 * - "not yet" conditions (dependencies still attached, quota full) -> RequeueError, with a message saying why;
 * - throttling that outlived the SDK's adaptive retries -> TransientError;
 * - requests AWS refuses for good (bad certificate, validation) -> PermanentError with AWS's message.
 */
export function classify(err: unknown, what: string): ControllerError {
  if (err instanceof ControllerError) return err;
  const code = awsCode(err);
  const msg = (err as Error)?.message ?? String(err);
  switch (code) {
    case 'DependencyViolation':
    case 'ResourceInUse':
    case 'ResourceInUseException':
      return new RequeueError(`${what}: still in use (${code}: ${msg}); will retry`, 15, { cause: err });
    case 'TooManyLoadBalancers':
    case 'TooManyLoadBalancersException':
      return new RequeueError(
        `${what}: TooManyLoadBalancers: the account's Network Load Balancer quota in this region is exhausted; ` +
          'delete unused load balancers or raise the quota (Service Quotas: "Network Load Balancers per Region")',
        300,
        { cause: err },
      );
    case 'TooManyTargetGroups':
    case 'TooManyTargets':
    case 'TooManyListeners':
    case 'TooManyRegistrationsForTargetId':
      return new RequeueError(`${what}: ${code}: an ELBv2 quota is reached (${msg})`, 300, { cause: err });
    case 'Throttling':
    case 'ThrottlingException':
    case 'RequestLimitExceeded':
      return new TransientError(`${what}: AWS throttled the request (${code})`, 'Throttled', 10, { cause: err });
    case 'OperationNotPermitted':
      if (/provisioning|in progress|not active/i.test(msg))
        return new RequeueError(`${what}: ${msg}`, 15, { cause: err });
      return new PermanentError(`${what}: ${code}: ${msg}`, code);
    case 'InvalidConfigurationRequest':
    case 'ValidationError':
    case 'CertificateNotFound':
    case 'SSLPolicyNotFound':
    case 'InvalidSubnet':
    case 'InvalidSecurityGroup':
    case 'SubnetNotFound':
    case 'AllocationIdNotFound':
    case 'AvailabilityZoneNotSupported':
    case 'UnsupportedProtocol':
    case 'InvalidScheme':
    case 'ALPNPolicyNotFound':
      return new PermanentError(`${what}: ${code}: ${msg}`, code);
    default: {
      const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode ?? 0;
      if (status >= 400 && status < 500 && code) return new PermanentError(`${what}: ${code}: ${msg}`, code);
      return new TransientError(`${what}: ${code || 'error'}: ${msg}`, code || 'AwsError', 10, { cause: err });
    }
  }
}

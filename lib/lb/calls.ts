/**
 * Every AWS call of the load-balancer pipeline goes through here: ELBv2 calls take a token from the client-side
 * bucket first (lib/aws/throttle.ts), and AWS errors are turned into controller errors in ONE place (`classify`).
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Command, MetadataBearer } from '@smithy/types';
import { THROTTLE_ERROR_CODES } from '../contracts.js';
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

/**
 * The pages of an ELBv2 SDK paginator (paginateDescribeLoadBalancers, ...), each request behind a token of its
 * command's bucket, as `elb` takes one per call. The SDK's paginators send through the client itself and refuse
 * anything that is not an ElasticLoadBalancingV2Client (so no wrapper can stand in for `elb`): the token is taken here,
 * before the first page and before each further page a NextMarker announces, so no token is spent on a call that is
 * never made. The paginators of ELBv2 have no page-size setting of their own: callers keep PageSize in the input.
 */
export async function* elbPages<O extends { NextMarker?: string }>(
  ctx: LoadBalancerContext,
  command: { name: string },
  paginate: (config: { client: ElasticLoadBalancingV2Client }) => AsyncIterable<O>,
): AsyncGenerator<O> {
  await ctx.throttle.take(command.name);
  for await (const page of paginate({ client: ctx.clients.elbv2 })) {
    yield page;
    if (page?.NextMarker) await ctx.throttle.take(command.name);
  }
}

/**
 * EC2 calls are few per pass (subnets, security groups): the SDK's adaptive retry is enough. EC2 paginators
 * (paginateDescribeSubnets, ...) are given ctx.clients.ec2, the client this sends through, so nothing differs.
 */
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

/** The "it does not exist" codes of ELBv2 (with and without the SDK's Exception suffix) and EC2. */
const NOT_FOUND = new Set([
  'LoadBalancerNotFound',
  'LoadBalancerNotFoundException',
  'TargetGroupNotFound',
  'TargetGroupNotFoundException',
  'ListenerNotFound',
  'ListenerNotFoundException',
  'InvalidGroup.NotFound',
  'InvalidGroupId.NotFound',
  'InvalidPermission.NotFound',
]);

const THROTTLED = new Set<string>(THROTTLE_ERROR_CODES);

/** True when AWS says the resource the call names does not exist (any more). */
export function isNotFound(err: unknown): boolean {
  return NOT_FOUND.has(awsCode(err));
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
  // The same codes the handlers count as Throttled (one list, lib/contracts.ts).
  if (THROTTLED.has(code))
    return new TransientError(`${what}: AWS throttled the request (${code})`, 'Throttled', 10, { cause: err });
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

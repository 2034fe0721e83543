/**
 * `svcctl token --cluster-name NAME [--region R]`: a kubectl exec credential plugin, like `aws eks get-token`. It
 * prints an ExecCredential (client.authentication.k8s.io/v1beta1) whose token is the EKS-format bearer token
 * (lib/apiserver/auth/eks-token.ts: a presigned sts:GetCallerIdentity URL bound to the cluster name by the
 * x-k8s-aws-id header), signed with the default AWS credentials (environment, shared files, SSO, instance role...).
 * The deployed API verifies it by replaying it to its region's STS endpoint. Nothing is sent anywhere here.
 */
import { execCredential, generateEksToken } from '../../../lib/apiserver/auth/eks-token.js';
import { UsageError, type Io } from '../io.js';

export interface TokenFlags {
  'cluster-name'?: string;
  region?: string;
}

export async function token(flags: TokenFlags, io: Io): Promise<number> {
  const cluster = flags['cluster-name'];
  if (!cluster) throw new UsageError('token needs --cluster-name (the cluster name the API was deployed with)');
  const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError("token needs --region (or AWS_REGION): the region of the cluster's API");
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const creds = await defaultProvider()();
  const t = await generateEksToken(cluster, region, creds);
  // A token never outlives the credentials that signed it.
  const expiration = creds.expiration && creds.expiration < t.expiration ? creds.expiration : t.expiration;
  io.stdout(JSON.stringify(execCredential(t.token, expiration)) + '\n');
  return 0;
}

/**
 * The deployed Kubernetes API (functions/api.ts behind a Lambda Function URL): the REST layer (lib/apiserver) over
 * the store (lib/api StoreBackend on DynamoDB), EKS-format bearer tokens
 * verified against the region's STS endpoint with the cluster name as x-k8s-aws-id, and the role mapping from the
 * stack's props (API_ADMIN_ARNS, API_VIEW_ARNS, API_WRITER_ARNS: IAM role and user ARNs; an assumed-role session is
 * its role). The Function URL's own auth is NONE because kubectl cannot sign requests with SigV4: the bearer token is
 * the authentication, checked here on every request.
 */
import { StoreBackend } from '../api/store-backend.js';
import { EksTokenAuthenticator, TokenError } from '../apiserver/auth/eks-verifier.js';
import { iamRoleTable, RoleAuthorizer, type Role } from '../apiserver/auth/roles.js';
import type { Authenticator } from '../apiserver/auth/types.js';
import { createApiHandler } from '../apiserver/handler.js';
import type { ApiHandler } from '../apiserver/http/types.js';
import { makeDynamoDbClient } from '../aws/dynamodb-client.js';
import { ConfigError, readClusterConfig } from '../cluster-env.js';
import type { ClusterConfig } from '../model/types.js';
import { DynamoStore } from '../store/store.js';
import type { Store } from '../store/types.js';
import { ROLE_ENV } from './role-env.js';

export interface DeployedApiConfig {
  cluster: ClusterConfig;
  tableName: string;
  region: string;
  roles: { arn: string; role: Role }[];
}

const ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DeployedApiConfig {
  const tableName = env.TABLE_NAME?.trim();
  const region = env.AWS_REGION?.trim();
  if (!tableName) throw new ConfigError('TABLE_NAME: required');
  if (!region) throw new ConfigError('AWS_REGION: required (the Lambda runtime sets it)');
  const roles: DeployedApiConfig['roles'] = [];
  for (const [role, name] of Object.entries(ROLE_ENV) as [Role, string][]) {
    for (const arn of (env[name] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!ARN.test(arn)) throw new ConfigError(`${name}: not an IAM role or user ARN: "${arn}"`);
      roles.push({ arn, role });
    }
  }
  return { cluster: readClusterConfig(env), tableName, region, roles };
}

export interface DeployedApiDeps {
  store?: Store;
  /** STS is called through this (tests answer with recorded STS responses); the global fetch otherwise. */
  fetch?: typeof fetch;
  /** Why a token was refused (clients only see 401). */
  onRefused?: (detail: string) => void;
}

/** Logs the verifier's reason for a refused token; the client still gets only 401 Unauthorized. */
function logged(inner: Authenticator, onRefused: ((d: string) => void) | undefined): Authenticator {
  return {
    authenticate: async (req) => {
      try {
        return await inner.authenticate(req);
      } catch (err) {
        if (err instanceof TokenError) onRefused?.(err.detail);
        throw err;
      }
    },
  };
}

export function deployedApiHandler(cfg: DeployedApiConfig, deps: DeployedApiDeps = {}): ApiHandler {
  const store = deps.store ?? new DynamoStore(makeDynamoDbClient({ region: cfg.region }), cfg.tableName);
  const backend = new StoreBackend({ store, cfg: cfg.cluster });
  const tokens = new EksTokenAuthenticator({
    clusterId: cfg.cluster.clusterName,
    region: cfg.region,
    fetch: deps.fetch,
  });
  return createApiHandler({
    backend,
    authenticator: logged(tokens, deps.onRefused),
    authorizer: new RoleAuthorizer(iamRoleTable(cfg.roles)),
    options: { pricing: { region: cfg.region } },
  });
}

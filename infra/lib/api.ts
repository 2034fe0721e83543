/**
 * The Kubernetes API: kubectl, client libraries and producers write here; it validates, allocates and commits with
 * the change log. No other principal is granted anything on the table: the API is the only way in for users.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { ROLE_ENV } from '../../lib/serving/role-env.js';
import { API_HANDLER } from './bundling.js';
import { bundledFunction, type FunctionSettings } from './functions.js';
import { TABLE_ITEM_ACTIONS } from './grants.js';
import type { ControllerParts } from './parts.js';

/**
 * The API function: a watch holds its invocation until the watch ends (the server closes it 2 s before this timeout
 * and kubectl re-watches from its last resourceVersion), so the timeout bounds one watch, not the API.
 */
const API_SETTINGS: FunctionSettings = {
  description: 'Kubernetes API (Function URL, response streaming)',
  timeout: Duration.minutes(5),
  memorySize: 1024,
};

/** The API also reads the change log in batches for watches (lib/store readLogTo: BatchGetItem). */
export const API_TABLE_ACTIONS = [...TABLE_ITEM_ACTIONS, 'dynamodb:BatchGetItem'] as const;

export interface Api {
  /** The Kubernetes API function and its Function URL (the ApiUrl output). */
  readonly apiFunction: NodejsFunction;
  readonly apiRole: iam.Role;
  readonly apiUrl: lambda.FunctionUrl;
}

/**
 * The API function: only the settings it reads (cluster, table, role mapping) and only the table's items. It calls
 * STS GetCallerIdentity with the caller's presigned URL, which needs no permission of its own.
 */
type ApiContext = Pick<ControllerParts, 'config' | 'table' | 'powertoolsServiceName'>;

export function addApi(scope: Construct, c: ApiContext): Api {
  const { fn: apiFunction, role: apiRole } = bundledFunction(
    scope,
    c.config,
    API_HANDLER,
    apiEnvironment(c),
    API_SETTINGS,
  );
  apiRole.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [...API_TABLE_ACTIONS], resources: [c.table.tableArn] }),
  );
  // Auth type NONE: kubectl cannot sign requests with SigV4. Every request carries an EKS-format bearer token that
  // the function verifies against the region's STS endpoint and maps to a role (lib/serving/deployed-api.ts).
  const apiUrl = apiFunction.addFunctionUrl({
    authType: lambda.FunctionUrlAuthType.NONE,
    invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
  });
  return { apiFunction, apiRole, apiUrl };
}

function apiEnvironment(c: ApiContext): Record<string, string> {
  const cfg = c.config;
  const arns = (role: string) =>
    cfg.apiPrincipals
      .filter((p) => p.role === role)
      .map((p) => p.arn)
      .join(',');
  return {
    CLUSTER_NAME: cfg.clusterName,
    TABLE_NAME: c.table.tableName,
    SERVICE_CIDR: cfg.serviceCidr,
    NODE_PORT_RANGE: `${cfg.nodePortRange.min}-${cfg.nodePortRange.max}`,
    CLUSTER_DOMAIN: cfg.clusterDomain,
    [ROLE_ENV.admin]: arns('admin'),
    [ROLE_ENV.view]: arns('view'),
    [ROLE_ENV.writer]: arns('writer'),
    POWERTOOLS_SERVICE_NAME: c.powertoolsServiceName,
    NODE_OPTIONS: '--enable-source-maps',
  };
}

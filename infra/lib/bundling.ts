/**
 * How every handler is bundled, shared by the CDK construct (NodejsFunction, local esbuild) and
 * scripts/bundle-size.ts (esbuild API), so the size budget measures exactly what is deployed.
 */
import { fileURLToPath } from 'node:url';

/** Repository root: infra/lib/ is two levels below it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The handlers every stack deploys (entry files fixed by the functions/ owner; each exports `handler`). */
export const CORE_HANDLERS = ['service-events', 'node-events', 'resync', 'ssm-status', 'dataplane-push'] as const;
export type CoreHandlerName = (typeof CORE_HANDLERS)[number];
/** Cluster mode's watcher (functions/cluster-watcher.ts): deployed only when the clusterMode prop is set. */
export const CLUSTER_WATCHER = 'cluster-watcher';
/** The controller's handlers, in deployment order; the last one only in cluster mode (see deployedHandlers). */
export const HANDLERS = [...CORE_HANDLERS, CLUSTER_WATCHER] as const;
export type HandlerName = (typeof HANDLERS)[number];

/** The handlers a stack with this configuration deploys: the core ones, plus the watcher in cluster mode. */
export function deployedHandlers(cfg: { readonly clusterMode?: unknown }): readonly HandlerName[] {
  return cfg.clusterMode === undefined ? CORE_HANDLERS : HANDLERS;
}

/** The Kubernetes API (functions/api.ts), served from a Function URL; not one of the controller's handlers. */
export const API_HANDLER = 'api';
/** Every bundle that is deployed. */
export const BUNDLES = [...HANDLERS, API_HANDLER] as const;
export type BundleName = (typeof BUNDLES)[number];

export function handlerEntry(name: BundleName): string {
  return fileURLToPath(new URL(`../../functions/${name}.ts`, import.meta.url));
}

/**
 * The AWS SDK v3 is NOT bundled: the nodejs22.x runtime ships it, and bundling it would break the size budget
 * (measured: @aws-sdk/client-ec2 alone adds ~560 KB minified because its operation schemas do not tree-shake; a
 * handler using EC2+ELBv2+DynamoDB+SSM+S3 bundled to 1.3 MB). The runtime's SDK is a v3 release at least as new as
 * the one the runtime image was built with; the handlers use only long-stable operations, and the tests run the
 * same SDK major against moto. Everything else (middy, Powertools, yaml, our lib/) is bundled and pinned.
 */
export const EXTERNAL_MODULES = ['@aws-sdk/*'];

/**
 * ESM output (.mjs). esbuild's ESM output cannot `require()` Node built-ins from bundled CommonJS dependencies
 * (aws-xray-sdk-core, pulled in by the Powertools tracer, does), so the bundle defines `require` with createRequire.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __sscCreateRequire } from 'node:module'; const require = __sscCreateRequire(import.meta.url);";

/** Node 22 is the Lambda runtime: let esbuild keep modern syntax. */
export const ESBUILD_TARGET = 'node22';

/** Prefer packages' ESM builds so unused exports tree-shake. */
export const MAIN_FIELDS = ['module', 'main'];

/** The size budget per bundle (minified), enforced by scripts/bundle-size.ts. */
export const BUNDLE_BUDGET_BYTES = 500 * 1024;

/**
 * The API's bundle carries the OpenAPI schemas with their documentation (~260 KB, what `kubectl apply` and
 * `kubectl explain` read) and the protobuf tables; both sit behind import() and cost nothing at module init
 * (scripts/bundle-size.ts --time measures it), so its budget is larger.
 */
export const BUDGETS: Record<BundleName, number> = {
  ...(Object.fromEntries(HANDLERS.map((h) => [h, BUNDLE_BUDGET_BYTES])) as Record<HandlerName, number>),
  // The watcher talks to a real Kubernetes API server with @kubernetes/client-node, bundled whole (measured: ~920 KB
  // of the client itself, ~260 KB of tr46 through its fetch stack; 1.84 MB in all). It starts once a minute and runs
  // for minutes, on no request path, so its module init is not latency-critical; the budget still catches growth.
  [CLUSTER_WATCHER]: 2048 * 1024,
  [API_HANDLER]: 900 * 1024,
};

/** Modules the API's request path must not load (each costs most of a second to import here). */
export const API_FORBIDDEN_MODULES = ['@aws-sdk/client-ec2', '@kubernetes/client-node'];

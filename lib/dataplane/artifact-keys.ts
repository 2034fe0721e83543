/**
 * Where the data-plane push keeps its artifacts in the artifact bucket, shared by the driver (lib/dataplane/
 * ssm-driver.ts) and the bucket's lifecycle rules (infra/), so the rules expire exactly what the driver writes.
 */

/** Key prefix of one cluster's artifacts: `<prefix>state/`, `<prefix>manifests/`, `<prefix>bundles/`. */
export const dataPlanePrefix = (clusterName: string): string => `dataplane/${clusterName}/`;

/**
 * Days after which the bucket expires state, manifests and bundles no push has written since. Only the last push's
 * artifacts are read again, and its manifest's presigned bundle URLs expire long before (PRESIGN_SECONDS).
 */
export const ARTIFACT_EXPIRY_DAYS = 3;

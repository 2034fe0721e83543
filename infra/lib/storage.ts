/** Storage: the table (the store of lib/store) and the buckets (data-plane artifacts and their access logs). */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ARTIFACT_EXPIRY_DAYS, dataPlanePrefix } from '../../lib/dataplane/artifact-keys.js';
import { TTL_ATTRIBUTE } from '../../lib/store/table.js';
import type { ResolvedConfig } from './config.js';
import type { Storage } from './parts.js';

/** Adds the table, the access-log bucket and the artifact bucket, in that order, to the controller scope. */
export function addStorage(scope: Construct, cfg: ResolvedConfig): Storage {
  const removal = cfg.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
  const table = addTable(scope, removal);
  const accessLogBucket = new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    removalPolicy: removal,
  });
  const artifactBucket = addArtifactBucket(scope, cfg, accessLogBucket, removal);
  return { table, accessLogBucket, artifactBucket };
}

function addTable(scope: Construct, removal: RemovalPolicy): dynamodb.Table {
  return new dynamodb.Table(scope, 'Table', {
    // Key schema fixed by lib/store (pk/sk strings); on-demand so idle clusters cost nothing.
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // The change log's INSERTs trigger the controller (the Pipe in event-path.ts); NEW_IMAGE is all they need.
    stream: dynamodb.StreamViewType.NEW_IMAGE,
    // Backstop for change-log compaction (the resync's job), the one-hour expiry of Events and records that age out
    // (each node's data-plane status, command records); DynamoDB deletes items some time after it passes.
    timeToLiveAttribute: TTL_ATTRIBUTE,
    removalPolicy: removal,
  });
}

function addArtifactBucket(
  scope: Construct,
  cfg: ResolvedConfig,
  accessLogBucket: s3.Bucket,
  removal: RemovalPolicy,
): s3.Bucket {
  return new s3.Bucket(scope, 'Artifacts', {
    versioned: true,
    // SSE-S3: nodes read artifacts with only s3:GetObject on their instance role (SSE-KMS would also need
    // kms:Decrypt on every node role).
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: accessLogBucket,
    serverAccessLogsPrefix: 'artifacts/',
    lifecycleRules: artifactLifecycleRules(cfg),
    removalPolicy: removal,
  });
}

function artifactLifecycleRules(cfg: ResolvedConfig): s3.LifecycleRule[] {
  return [
    // Rendered configs are rewritten on every push; old versions are only useful for a short post-mortem.
    { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(7), noncurrentVersionsToRetain: 3 },
    { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    // Every push writes state/v<N>.json.gz (up to ~288 a day with a 5-minute resync) and, when it is too large to
    // go inline, manifests/v<N>.tsv; none is ever overwritten. Only the last push's are read again: the state as
    // the next push's delta base (a missing base means a full sync, which is always correct) and the manifest
    // by a retry, whose bundle URLs expire after PRESIGN_SECONDS (6 h) anyway. Bundles are content-addressed
    // and rewritten by every push that references them, so the age of the current version is the time since
    // the last push that used it. Three days outlives all of that; expiry of a current version leaves a delete
    // marker (the bucket is versioned) and the noncurrent rule above removes the data.
    ...(['state', 'manifests', 'bundles'] as const).map((dir) => ({
      id: `expire-${dir}`,
      prefix: `${dataPlanePrefix(cfg.clusterName)}${dir}/`,
      expiration: Duration.days(ARTIFACT_EXPIRY_DAYS),
    })),
    // Delete markers left alone once their noncurrent versions are gone.
    { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
  ];
}

/**
 * Pushes the data plane to nodes with SSM Run Command and records what each node applied.
 *
 * - ONE SendCommand per push, addressed with Targets by the cluster tag (`tag:kubernetes.io/cluster/<name>`), never
 *   one call per instance: SSM fans it out to every managed instance carrying the tag, including nodes that joined a
 *   second ago. Rules differ per node, so the command carries a manifest (instance id -> bundle) and each agent picks
 *   its own line (see bundle.ts).
 * - Retrying specific failed nodes uses InstanceIds, which SendCommand caps at 50 per call: chunks of <= 50.
 * - MaxConcurrency 50% (two waves: a bad but nft-valid push never hits every node at once, and dnsmasq restarts are
 *   spread); MaxErrors 25% (SSM stops sending once a quarter of targets failed, instead of failing all of them).
 * - Applied versions come from EventBridge "EC2 Command Invocation Status-change Notification" events
 *   (`handleCommandStatusEvent`), which carry command id, instance id and status but no output: the command id ->
 *   version mapping is stored at push time.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { SignatureV4 } from '@smithy/signature-v4';
import { gunzipSync, gzipSync } from 'node:zlib';
import { buildPush, inlineArchive, renderManifest, sha256hex, type Push } from './bundle.js';
import { coalesce, type PushRequest } from './coalesce.js';
import type { DataPlaneState } from './render/state.js';
import { validateState } from './render/state.js';
import { INLINE_BUDGET, validateParameters, type DataPlaneParameters } from './ssm-document.js';
import type { DataPlaneStateStore, NodeStatus, PushRecord } from './state-store.js';

/** SendCommand accepts at most 50 InstanceIds per call. */
export const MAX_INSTANCE_IDS = 50;
export const MAX_CONCURRENCY = '50%';
export const MAX_ERRORS = '25%';
/** Presigned URLs outlive the command's delivery window (SSM may hold a command for an offline node for a while). */
export const PRESIGN_SECONDS = 6 * 3600;

export interface DriverDeps {
  ssm: SSMClient;
  s3: S3Client;
  store: DataPlaneStateStore;
  bucket: string;
  /** S3 key prefix for this cluster's artifacts. */
  prefix?: string;
  documentName: string;
  clusterName: string;
  /** Force the S3 path even for small pushes (tests). */
  inlineBudget?: number;
  /** Overrides URL presigning (tests, local mode). */
  presign?: (key: string) => Promise<string>;
  now?: () => Date;
}

export const clusterTagKey = (cluster: string): string => `tag:kubernetes.io/cluster/${cluster}`;

/** SigV4 query-string presigned GET URL for an S3 object (what @aws-sdk/s3-request-presigner does). */
export async function presignGet(
  s3: S3Client,
  bucket: string,
  key: string,
  expiresIn = PRESIGN_SECONDS,
): Promise<string> {
  const region = await s3.config.region();
  const custom = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
  const encKey = key.split('/').map(encodeURIComponent).join('/');
  // Path-style against a custom endpoint (moto, LocalStack), virtual-hosted style on AWS.
  const url = custom
    ? new URL(`${custom.replace(/\/$/, '')}/${bucket}/${encKey}`)
    : new URL(`https://${bucket}.s3.${region}.amazonaws.com/${encKey}`);
  const signer = new SignatureV4({
    credentials: s3.config.credentials,
    region,
    service: 's3',
    sha256: s3.config.sha256,
    uriEscapePath: false,
  });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers: { host: url.host },
    },
    { expiresIn },
  );
  const qs = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${url.protocol}//${url.host}${url.pathname}?${qs}`;
}

export interface Artifacts {
  parameters: DataPlaneParameters;
  stateKey: string;
  manifestKey?: string;
  bundleKeys: string[];
}

/**
 * Stores one push in S3 (content-addressed bundles, a versioned manifest, the rendered state for the next delta) and
 * returns the SSM parameters: inline when the whole archive fits INLINE_BUDGET as base64, else a presigned manifest
 * URL. Bundles are always stored so a retry or a late node can fetch them.
 */
export async function putArtifacts(
  s3: S3Client,
  bucket: string,
  args: {
    push: Push;
    state: DataPlaneState;
    prefix: string;
    mode: 'full' | 'delta';
    inlineBudget?: number;
    presign?: (key: string) => Promise<string>;
  },
): Promise<Artifacts> {
  const { push, prefix } = args;
  const presign = args.presign ?? ((key: string) => presignGet(s3, bucket, key));
  const bundleKeys: string[] = [];
  for (const [sha, body] of push.bundles) {
    const key = `${prefix}bundles/${sha}.tgz`;
    bundleKeys.push(key);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
  }
  const stateKey = `${prefix}state/v${push.version}.json.gz`;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: stateKey,
      Body: gzipSync(JSON.stringify(args.state)),
      ContentType: 'application/gzip',
    }),
  );
  const base = { version: String(push.version), mode: args.mode, manifestUrl: '', inline: '' };
  const archive = inlineArchive(push);
  const b64 = archive.toString('base64');
  if (b64.length <= (args.inlineBudget ?? INLINE_BUDGET)) {
    const parameters = { ...base, manifestSha256: sha256hex(archive), inline: b64 };
    validateParameters(parameters);
    return { parameters, stateKey, bundleKeys };
  }
  const urls = new Map<string, string>();
  for (const sha of push.bundles.keys()) urls.set(sha, await presign(`${prefix}bundles/${sha}.tgz`));
  const manifest = renderManifest(push, (sha) => urls.get(sha)!);
  const manifestKey = `${prefix}manifests/v${push.version}.tsv`;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: manifestKey,
      Body: manifest,
      ContentType: 'text/tab-separated-values',
    }),
  );
  const parameters = { ...base, manifestSha256: sha256hex(manifest), manifestUrl: await presign(manifestKey) };
  validateParameters(parameters);
  return { parameters, stateKey, manifestKey, bundleKeys };
}

async function loadState(s3: S3Client, bucket: string, key: string): Promise<DataPlaneState | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await r.Body!.transformToByteArray());
    return JSON.parse(gunzipSync(bytes).toString('utf8')) as DataPlaneState;
  } catch {
    return undefined; // no delta base: bundles carry only the full ruleset, which is always correct
  }
}

const toSsmParameters = (p: DataPlaneParameters): Record<string, string[]> =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, [v]]));

export interface PushResult {
  version: number;
  commandId: string;
  inline: boolean;
  bundles: number;
}

/** Renders, stores and sends one push of `state` to every node of the cluster with one SendCommand. */
export async function pushDataPlane(
  deps: DriverDeps,
  state: DataPlaneState,
  opts: { generation?: number; full?: boolean } = {},
): Promise<PushResult> {
  validateState(state); // bad input: a clear error, nothing stored, nothing sent
  const prefix = deps.prefix ?? `dataplane/${deps.clusterName}/`;
  const last = await deps.store.getLastPush();
  const prevState = last && !opts.full ? await loadState(deps.s3, deps.bucket, last.stateKey) : undefined;
  const version = await deps.store.nextVersion();
  const push = buildPush({
    next: state,
    version,
    prev: prevState && last ? { state: prevState, version: last.version } : undefined,
  });
  const art = await putArtifacts(deps.s3, deps.bucket, {
    push,
    state,
    prefix,
    mode: opts.full ? 'full' : 'delta',
    inlineBudget: deps.inlineBudget,
    presign: deps.presign,
  });
  const out = await deps.ssm.send(
    new SendCommandCommand({
      DocumentName: deps.documentName,
      Targets: [{ Key: clusterTagKey(deps.clusterName), Values: ['owned', 'shared'] }],
      Parameters: toSsmParameters(art.parameters),
      MaxConcurrency: MAX_CONCURRENCY,
      MaxErrors: MAX_ERRORS,
      TimeoutSeconds: 600, // delivery timeout: how long SSM keeps trying to reach an instance
      Comment: `sscontroller data plane v${version}`.slice(0, 100),
    }),
  );
  const commandId = out.Command?.CommandId;
  if (!commandId) throw new Error('SendCommand returned no CommandId');
  await deps.store.putCommand(commandId, version);
  const rec: PushRecord = {
    version,
    generation: opts.generation ?? last?.generation ?? 0,
    stateKey: art.stateKey,
    manifestKey: art.manifestKey,
    parameters: art.parameters,
    commandId,
    pushedAt: (deps.now?.() ?? new Date()).toISOString(),
  };
  await deps.store.putLastPush(rec);
  return { version, commandId, inline: art.parameters.inline !== '', bundles: push.bundles.size };
}

/** Re-sends the latest push (mode full) to specific instances, at most 50 InstanceIds per SendCommand. */
export async function retryNodes(deps: DriverDeps, instanceIds: readonly string[]): Promise<string[]> {
  const last = await deps.store.getLastPush();
  if (!last || instanceIds.length === 0) return [];
  const parameters: DataPlaneParameters = { ...last.parameters, mode: 'full' };
  if (last.manifestKey) {
    // Presigned URLs expire; the manifest's bundle URLs were signed for PRESIGN_SECONDS, which covers retries of
    // the latest push. The manifest URL itself is signed again here.
    const presign = deps.presign ?? ((key: string) => presignGet(deps.s3, deps.bucket, key));
    parameters.manifestUrl = await presign(last.manifestKey);
  }
  const ids: string[] = [];
  for (let i = 0; i < instanceIds.length; i += MAX_INSTANCE_IDS) {
    const chunk = instanceIds.slice(i, i + MAX_INSTANCE_IDS);
    const out = await deps.ssm.send(
      new SendCommandCommand({
        DocumentName: deps.documentName,
        InstanceIds: [...chunk],
        Parameters: toSsmParameters(parameters),
        MaxConcurrency: MAX_CONCURRENCY,
        MaxErrors: '100%', // these nodes are already failing: try every one of them
        TimeoutSeconds: 600,
        Comment: `sscontroller data plane v${last.version} retry`,
      }),
    );
    const id = out.Command?.CommandId;
    if (id) {
      ids.push(id);
      await deps.store.putCommand(id, last.version);
    }
  }
  return ids;
}

/** Nodes whose last invocation failed and that are still behind the latest push. */
export async function failedNodes(store: DataPlaneStateStore): Promise<string[]> {
  const last = await store.getLastPush();
  if (!last) return [];
  return (await store.listNodes())
    .filter((n) => n.failedVersion !== undefined && n.appliedVersion < last.version)
    .map((n) => n.instanceId)
    .sort();
}

/** EventBridge "EC2 Command Invocation Status-change Notification" (source aws.ssm). */
export interface CommandStatusEvent {
  source?: string;
  'detail-type'?: string;
  detail: {
    'command-id': string;
    'instance-id': string;
    status: string;
    'document-name'?: string;
    'requested-date-time'?: string;
  };
}

const FAILED = new Set([
  'Failed',
  'TimedOut',
  'Cancelled',
  'Undeliverable',
  'Terminated',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
]);

/**
 * Records a node's result. Success raises its applied version (never lowers it: events arrive out of order);
 * a failure marks it for retry. Events for commands we did not send are ignored. Returns the updated status.
 */
export async function handleCommandStatusEvent(
  event: CommandStatusEvent,
  deps: { store: DataPlaneStateStore; now?: () => Date },
): Promise<NodeStatus | undefined> {
  const d = event.detail;
  if (!d || !d['command-id'] || !d['instance-id']) return undefined;
  const version = await deps.store.getCommandVersion(d['command-id']);
  if (version === undefined) return undefined;
  const status = d.status.replace(/\s+/g, '');
  if (status !== 'Success' && !FAILED.has(status)) return undefined; // Pending/InProgress/Delayed: not final
  const at = (deps.now?.() ?? new Date()).toISOString();
  return deps.store.updateNode(d['instance-id'], (cur) => {
    const applied = cur?.appliedVersion ?? 0;
    if (status === 'Success') {
      const appliedVersion = Math.max(applied, version);
      return {
        instanceId: d['instance-id'],
        appliedVersion,
        lastCommandId: d['command-id'],
        lastStatus: status,
        failedVersion:
          cur?.failedVersion !== undefined && cur.failedVersion > appliedVersion ? cur.failedVersion : undefined,
        updatedAt: at,
      };
    }
    return {
      instanceId: d['instance-id'],
      appliedVersion: applied,
      lastCommandId: d['command-id'],
      lastStatus: status,
      failedVersion: Math.max(cur?.failedVersion ?? 0, version),
      updatedAt: at,
    };
  });
}

/**
 * The push function's body for one SQS batch (reserved concurrency 1, batching window): coalesces the requests,
 * pushes the newest desired state once, and re-sends to failed nodes.
 */
export async function handlePushBatch(
  requests: readonly PushRequest[],
  deps: DriverDeps & { loadDesired: () => Promise<{ generation: number; state: DataPlaneState }> },
): Promise<{ pushed?: PushResult; retried: string[] }> {
  const last = await deps.store.getLastPush();
  const c = coalesce(requests, last?.generation ?? 0);
  let pushed: PushResult | undefined;
  if (c.generation !== undefined) {
    const desired = await deps.loadDesired();
    pushed = await pushDataPlane(deps, desired.state, {
      generation: Math.max(desired.generation, c.generation),
      full: c.full,
    });
  }
  const retry = [...new Set([...c.retryInstances, ...(pushed ? [] : await failedNodes(deps.store))])].sort();
  const retried = retry.length ? await retryNodes(deps, retry) : [];
  return { pushed, retried };
}

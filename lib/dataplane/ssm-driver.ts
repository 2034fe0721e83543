/**
 * Pushes the data plane to nodes with SSM Run Command and records what each node applied.
 *
 * - ONE SendCommand per push, addressed with Targets by the node selector (`tag:<key>` = values), never
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
import { inlineArchive, preparePush, renderManifest, sameDigests, sha256hex, type Push } from './bundle.js';
import { defaultNodeSelector, type NodeSelector } from '../nodes/selector.js';
import type { NodeInfo } from '../model/types.js';
import { applyResult, finalStatus, resetFailures, type NodeStatus, type RetryPolicy } from './node-status.js';
import { behind, deltaBases, retryTargets, targetsFor, type Targets } from './push-plan.js';
import type { DataPlaneState } from './render/state.js';
import { INLINE_BUDGET, validateParameters, type DataPlaneParameters } from './ssm-document.js';
import { digestFor, type DataPlaneStateStore } from './state-store.js';
import { regionalHost } from '../aws/partition.js';
import { dataPlanePrefix } from './artifact-keys.js';
import { coalesce, type PushRequest } from './triggers.js';

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
  /** Which instances are nodes (default: the cluster tag, owned or shared). */
  nodeSelector?: NodeSelector;
  /** Force the S3 path even for small pushes (tests). */
  inlineBudget?: number;
  /** Overrides URL presigning (tests, local mode). */
  presign?: (key: string) => Promise<string>;
  now?: () => Date;
  retryPolicy?: RetryPolicy;
}

/** SendCommand Targets for every node the selector matches (SSM's `tag:<key>` target key; Values are "any of"). */
export const selectorTargets = (s: NodeSelector) => [{ Key: `tag:${s.key}`, Values: [...s.values] }];

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
  // Path-style against a custom endpoint (moto, LocalStack), virtual-hosted style on AWS, in the region's partition
  // (s3.cn-north-1.amazonaws.com.cn in aws-cn).
  const url = custom
    ? new URL(`${custom.replace(/\/$/, '')}/${bucket}/${encKey}`)
    : new URL(`https://${bucket}.${regionalHost('s3', region)}/${encKey}`);
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

/** Where the state a version rendered is kept: the delta base for nodes that applied that version. */
export const stateKeyFor = (prefix: string, version: number): string => `${prefix}state/v${version}.json.gz`;

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
  const stateKey = stateKeyFor(prefix, push.version);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: stateKey,
      Body: gzipSync(JSON.stringify(args.state)),
      ContentType: 'application/gzip',
    }),
  );
  // mode delta: the agent applies its bundle's delta when it stands at the delta's base, and a full sync otherwise.
  const base = { version: String(push.version), mode: 'delta', manifestUrl: '', inline: '' };
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

const prefixOf = (deps: DriverDeps): string => deps.prefix ?? dataPlanePrefix(deps.clusterName);
const nowOf = (deps: DriverDeps): Date => deps.now?.() ?? new Date();

/**
 * One SendCommand to every node the selector matches, or SendCommands naming instances (at most 50 each). Records
 * what each command carried (version, digests) so status events can tell what a node applied.
 */
async function sendCommands(
  deps: DriverDeps,
  parameters: DataPlaneParameters,
  to: Targets,
  rec: { version: number; digests: Record<string, string> },
  comment: string,
): Promise<string[]> {
  const base = {
    DocumentName: deps.documentName,
    Parameters: toSsmParameters(parameters),
    MaxConcurrency: MAX_CONCURRENCY,
    TimeoutSeconds: 600, // delivery timeout: how long SSM keeps trying to reach an instance
    Comment: `sscontroller data plane v${rec.version} ${comment}`.slice(0, 100),
  };
  const calls = to.all
    ? [
        {
          ...base,
          Targets: selectorTargets(deps.nodeSelector ?? defaultNodeSelector(deps.clusterName)),
          MaxErrors: MAX_ERRORS,
        },
      ]
    : chunks(to.instanceIds, MAX_INSTANCE_IDS).map((ids) => ({ ...base, InstanceIds: ids, MaxErrors: '100%' }));
  const ids: string[] = [];
  for (const input of calls) {
    const out = await deps.ssm.send(new SendCommandCommand(input));
    const id = out.Command?.CommandId;
    if (!id) throw new Error('SendCommand returned no CommandId');
    await deps.store.putCommand(id, rec);
    ids.push(id);
  }
  return ids;
}

const chunks = <T>(xs: readonly T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

export interface PushResult {
  version: number;
  commandIds: string[];
  /** 'all' when the command targeted the node selector, else the instance ids it named. */
  targets: 'all' | string[];
  inline: boolean;
  bundles: number;
}

/**
 * Renders `state`; when some node's content changed since the last push, allocates a version, stores the artifacts
 * and sends them to exactly the nodes that need them, each bundle a delta from the version its node applied.
 * Returns undefined (and sends nothing) when nothing rendered differently.
 */
export async function pushDataPlane(
  deps: DriverDeps,
  state: DataPlaneState,
  opts: { generation?: number; statuses?: ReadonlyMap<string, NodeStatus> } = {},
): Promise<PushResult | undefined> {
  // Validates first (once, for every renderer): bad input is a clear error, nothing stored, nothing sent.
  const prepared = preparePush(state);
  const last = await deps.store.getLastPush();
  if (last && sameDigests(prepared.digests, last.digests)) {
    if ((opts.generation ?? 0) > last.generation)
      await deps.store.putLastPush({ ...last, generation: opts.generation! });
    return undefined;
  }
  const statuses = opts.statuses ?? new Map((await deps.store.listNodes(nowOf(deps))).map((s) => [s.instanceId, s]));
  const version = await deps.store.nextVersion();
  const prefix = prefixOf(deps);
  const load = (v: number) => loadState(deps.s3, deps.bucket, stateKeyFor(prefix, v));
  const prevState = last ? await load(last.version) : undefined;
  const nodeBases = await Promise.all(
    deltaBases(state.nodes, statuses, last?.version).map(async (b) => ({ ...b, state: await load(b.version) })),
  );
  const push = prepared.build({ version, prev: prevState && { state: prevState, version: last!.version }, nodeBases });
  const art = await putArtifacts(deps.s3, deps.bucket, {
    push,
    state,
    prefix,
    inlineBudget: deps.inlineBudget,
    presign: deps.presign,
  });
  const to = targetsFor(state.nodes, push.digests, statuses);
  const rec = { version, digests: push.digests };
  const commandIds = to.instanceIds.length ? await sendCommands(deps, art.parameters, to, rec, 'push') : [];
  await deps.store.putLastPush({
    version,
    generation: opts.generation ?? last?.generation ?? 0,
    stateKey: art.stateKey,
    digests: push.digests,
    endpointNodes: endpointNodes(state),
    manifestKey: art.manifestKey,
    parameters: art.parameters,
    commandIds,
    pushedAt: nowOf(deps).toISOString(),
  });
  // Every failure series is over: nodes sent the new content start afresh, the others already hold it.
  await freshSeries(deps, [...statuses.keys()], statuses);
  return {
    version,
    commandIds,
    targets: to.all ? 'all' : to.instanceIds,
    inline: art.parameters.inline !== '',
    bundles: push.bundles.size,
  };
}

/** Nodes that host an endpoint the rules may send new connections to (ready, or terminating but serving). */
function endpointNodes(state: DataPlaneState): string[] {
  const names = new Set<string>();
  for (const se of state.endpoints)
    for (const e of se.endpoints) if (e.nodeName && (e.ready || (e.terminating && e.serving))) names.add(e.nodeName);
  return [...names].sort();
}

/** A new version for a node that was failing ends its series: it is sent a fresh one, or it already holds it. */
async function freshSeries(deps: DriverDeps, ids: readonly string[], statuses: ReadonlyMap<string, NodeStatus>) {
  for (const id of ids) {
    if ((statuses.get(id)?.failures ?? 0) === 0) continue;
    await deps.store.updateNode(id, (cur) => cur && resetFailures(cur, nowOf(deps)));
  }
}

/** Re-sends the latest push to specific instances (InstanceIds, at most 50 per SendCommand): no new version. */
export async function retryNodes(deps: DriverDeps, instanceIds: readonly string[]): Promise<string[]> {
  const last = await deps.store.getLastPush();
  if (!last || instanceIds.length === 0) return [];
  const parameters: DataPlaneParameters = { ...last.parameters };
  if (last.manifestKey) {
    // Presigned URLs expire; the manifest's bundle URLs were signed for PRESIGN_SECONDS, which covers retries of
    // the latest push. The manifest URL itself is signed again here.
    const presign = deps.presign ?? ((key: string) => presignGet(deps.s3, deps.bucket, key));
    parameters.manifestUrl = await presign(last.manifestKey);
  }
  const to = { all: false, instanceIds: [...instanceIds].sort() };
  return sendCommands(deps, parameters, to, { version: last.version, digests: last.digests }, 'retry');
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

/**
 * Records a node's final result (lib/dataplane/node-status.ts applyResult). Events for commands we did not send and
 * non-final statuses change nothing (undefined).
 */
export async function handleCommandStatusEvent(
  event: CommandStatusEvent,
  deps: { store: DataPlaneStateStore; now?: () => Date; retryPolicy?: RetryPolicy },
): Promise<NodeStatus | undefined> {
  const d = event.detail;
  if (!d || !d['command-id'] || !d['instance-id'] || typeof d.status !== 'string') return undefined;
  const final = finalStatus(d.status);
  if (!final) return undefined; // Pending/InProgress/Delayed
  const cmd = await deps.store.getCommand(d['command-id']);
  if (!cmd) return undefined;
  const ev = {
    instanceId: d['instance-id'],
    commandId: d['command-id'],
    ssmStatus: d.status,
    version: cmd.version,
    digest: digestFor(cmd.digests, d['instance-id']),
    now: deps.now?.() ?? new Date(),
  };
  // EventBridge delivers at least once: the same result twice must not count as two failures.
  const seen = (cur: NodeStatus | undefined) =>
    cur?.lastCommandId === ev.commandId && cur.lastStatus === ev.ssmStatus.replace(/\s+/g, '');
  return deps.store.updateNode(ev.instanceId, (cur) =>
    seen(cur) ? undefined : applyResult(cur, ev, final, deps.retryPolicy),
  );
}

export interface BatchOutcome {
  pushed?: PushResult;
  retried: string[];
  pruned: string[];
}

/**
 * The push function's body for one SQS batch (at most 2 at once, 1 with reserveConcurrency; batching window): coalesces the triggers,
 * pushes a new version only when some node's content changed, re-sends the latest push to nodes that joined or whose
 * retry is due (never a new version for anyone else), and on a resync prunes the statuses of nodes that are gone.
 */
export async function handlePushBatch(
  requests: readonly PushRequest[],
  deps: DriverDeps & { loadDesired: () => Promise<{ generation: number; state: DataPlaneState }> },
): Promise<BatchOutcome> {
  const now = nowOf(deps);
  const last = await deps.store.getLastPush();
  const c = coalesce(requests, last?.generation ?? 0);
  const statuses = new Map((await deps.store.listNodes(now)).map((s) => [s.instanceId, s]));
  let pushed: PushResult | undefined;
  let nodes: NodeInfo[] | undefined;
  let pruned: string[] = [];
  if (c.generation !== undefined || c.resync || c.joined.length || !last) {
    const desired = await deps.loadDesired();
    nodes = desired.state.nodes;
    const generation = Math.max(desired.generation, c.generation ?? 0);
    pushed = await pushDataPlane(deps, desired.state, { generation, statuses });
    if (c.resync) pruned = await pruneGone(deps.store, statuses, nodes);
  }
  const latest = await deps.store.getLastPush();
  if (!latest) return { pushed, retried: [], pruned };
  const exclude = new Set(pushed ? (pushed.targets === 'all' ? nodes!.map((n) => n.instanceId) : pushed.targets) : []);
  const liveIds = nodes?.map((n) => n.instanceId) ?? [...statuses.keys()];
  const joined = c.joined.filter((id) => liveIds.includes(id) && behind(statuses.get(id), latest.digests, id));
  await freshSeries(deps, joined, statuses);
  const due = retryTargets({
    last: latest,
    liveIds,
    statuses,
    requested: c.retryInstances,
    resync: c.resync,
    exclude,
    now,
    policy: deps.retryPolicy,
  });
  const ids = [...new Set([...joined.filter((id) => !exclude.has(id)), ...due])].sort();
  if (ids.length) await retryNodes(deps, ids);
  return { pushed, retried: ids, pruned };
}

/** Statuses of nodes no longer running are deleted (they come back as unknown, and get everything, if they return). */
async function pruneGone(store: DataPlaneStateStore, statuses: Map<string, NodeStatus>, nodes: NodeInfo[]) {
  const live = new Set(nodes.map((n) => n.instanceId));
  const gone = [...statuses.keys()].filter((id) => !live.has(id)).sort();
  for (const id of gone) {
    await store.deleteNode(id);
    statuses.delete(id);
  }
  return gone;
}

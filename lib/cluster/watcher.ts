/**
 * One run of cluster mode's watcher (a scheduled Lambda invocation, or a loop in local mode and tests):
 * 1. take the lease (exactly one watcher; a start that finds it held by a run that ends soon stands by and takes over
 *    when it is released, so consecutive runs leave no gap; otherwise it returns at once);
 * 2. per resource, list (as an informer starts, and again on 410 Gone), applying only items newer than the
 *    checkpoint (every change up to it was applied by an earlier run), then watch from the list's resourceVersion;
 * 3. apply each delivery through the bridge, one at a time across resources (one queue), and write back the status,
 *    Events and finalizers every `writeBackEveryMs`;
 * 4. stop at the deadline or when the lease is lost, save the checkpoints, release the lease.
 * A run killed anywhere loses nothing: the next one applies what is newer than the last checkpoint, the ledger refuses what is
 * older than applied, and every write-back is level-based.
 */
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../controller/controller.js';
import { GoneError } from '../errors.js';
import type { ClusterBridge } from './bridge.js';
import type { WatchCheckpoints, WatcherLease } from './records.js';
import type { RemoteCluster, RemoteEvent, RemoteResource } from './remote.js';

export interface WatcherOptions {
  bridge: ClusterBridge;
  remote: RemoteCluster;
  lease: WatcherLease;
  checkpoints: WatchCheckpoints;
  resources: readonly RemoteResource[];
  /** Epoch ms at which this run stops watching (the invocation's deadline minus the time its last writes need). */
  deadline: number;
  /** A node's eligibility changed: the targets follow (called at most once per write-back pass). */
  nodesChanged: () => Promise<void>;
  log: Logger;
  writeBackEveryMs?: number;
  /** The lease is renewed this often and expires `3 *` this after the last renewal (default 10 s). */
  renewEveryMs?: number;
  now?: () => number;
  /** How long a start may wait for the holder to end before it gives up (default 90 s). */
  standbyMaxMs?: number;
  /** Ends the run early (local mode's Ctrl-C, tests). */
  signal?: AbortSignal;
}

export interface WatcherRun {
  /** False when another watcher held the lease for longer than this run could wait. */
  ran: boolean;
  /** Why the run ended: deadline, lease-lost, or aborted. */
  ended?: string;
  events: number;
  relists: number;
}

/** A start comes every minute: the one before the holder's end, or the one after, takes over. */
const STANDBY_MAX_MS = 90_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Serializes the bridge's work: watches of several resources and the write-back never interleave on one object. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export async function runWatcher(o: WatcherOptions): Promise<WatcherRun> {
  const now = o.now ?? Date.now;
  const renewEvery = o.renewEveryMs ?? 10_000;
  if (!(await takeLease(o, now, renewEvery))) return { ran: false, events: 0, relists: 0 };
  const stop = new AbortController();
  const run: WatcherRun = { ran: true, events: 0, relists: 0 };
  const end = (why: string) => {
    run.ended ??= why;
    stop.abort();
  };
  const deadlineTimer = setTimeout(() => end('deadline'), Math.max(0, o.deadline - now()));
  o.signal?.addEventListener('abort', () => end('aborted'), { once: true });
  const renewTimer = setInterval(() => {
    o.lease.renew(o.deadline).then(
      (held) => (held ? undefined : end('lease-lost')),
      (err: unknown) => o.log.warn('lease not renewed', { error: (err as Error).message }),
    );
  }, renewEvery);
  const q = new SerialQueue();
  const state = { nodesDirty: false };
  try {
    await Promise.all([
      ...o.resources.map((r) => watchResource(o, r, q, stop.signal, run, state)),
      writeBackLoop(o, q, stop.signal, state),
    ]);
  } finally {
    clearTimeout(deadlineTimer);
    clearInterval(renewTimer);
    // A run that lost its lease writes nothing more; otherwise one last pass, then the lease goes to the next run.
    if (run.ended !== 'lease-lost') {
      await q
        .run(() => writeBackOnce(o, state))
        .catch((err: unknown) => o.log.warn('last write-back failed', { error: (err as Error).message }));
      await o.lease.release();
    }
  }
  return run;
}

/** Takes the lease, standing by while a run that ends before our deadline still holds it. */
async function takeLease(o: WatcherOptions, now: () => number, renewEvery: number): Promise<boolean> {
  for (;;) {
    const got = await o.lease.acquire(o.deadline);
    if (got.acquired) return true;
    const freeAt = Math.min(got.expiresAt, got.endsAt || got.expiresAt);
    // Standing by is billed: only for a holder that ends within the standby window (a start comes every minute, so
    // one or two standbys cover the hand-over), and only when this run would still have time to watch.
    if (freeAt >= o.deadline - renewEvery || freeAt - now() > (o.standbyMaxMs ?? STANDBY_MAX_MS)) {
      o.log.info('another watcher holds the lease', {
        holder: got.holder,
        until: new Date(got.expiresAt).toISOString(),
      });
      return false;
    }
    await sleep(Math.min(1000, Math.max(50, freeAt - now())));
  }
}

async function watchResource(
  o: WatcherOptions,
  resource: RemoteResource,
  q: SerialQueue,
  signal: AbortSignal,
  run: WatcherRun,
  state: { nodesDirty: boolean },
): Promise<void> {
  // Every run lists first, as an informer starts: the write-back needs every Service this controller serves, not only
  // those that change during the run. The checkpoint says which listed items were applied already (not re-applied).
  let lastSaved = await o.checkpoints.get(resource);
  let rv: string | undefined;
  const save = async () => {
    if (rv && rv !== lastSaved) await o.checkpoints.set(resource, rv);
    lastSaved = rv;
  };
  const handle = (e: RemoteEvent) =>
    q.run(async () => {
      if (resource === 'services') await o.bridge.onService(e);
      else if (resource === 'nodes') state.nodesDirty = (await o.bridge.onNode(e)) || state.nodesDirty;
      else await o.bridge.onPod(e);
      run.events++;
      rv = e.object.metadata?.resourceVersion ?? rv;
      if (e.type === 'BOOKMARK') await save();
    });
  while (!signal.aborted) {
    try {
      if (!rv) {
        rv = await q.run(() => relist(o, resource, state, lastSaved));
        run.relists++;
        await save();
      }
      await o.remote.watch(resource, rv, handle, signal);
      await save();
    } catch (err) {
      if (err instanceof GoneError) {
        o.log.info('watch expired: relisting', { resource, rv });
        rv = undefined;
        continue;
      }
      o.log.warn('watch failed; resuming', { resource, error: (err as Error).message });
      await sleep(1000, signal);
    }
  }
  await save().catch((err: unknown) => o.log.warn('checkpoint not saved', { error: (err as Error).message }));
}

async function relist(
  o: WatcherOptions,
  resource: RemoteResource,
  state: { nodesDirty: boolean },
  appliedUpTo: string | undefined,
): Promise<string> {
  const { items, resourceVersion } = await o.remote.list(resource);
  if (resource === 'services') await o.bridge.relistedServices(items as V1Service[], resourceVersion, appliedUpTo);
  else if (resource === 'nodes')
    state.nodesDirty = (await o.bridge.relistedNodes(items as V1Node[])) || state.nodesDirty;
  else await o.bridge.relistedPods(items as V1Pod[], resourceVersion, appliedUpTo);
  return resourceVersion;
}

async function writeBackOnce(o: WatcherOptions, state: { nodesDirty: boolean }): Promise<void> {
  if (state.nodesDirty) {
    state.nodesDirty = false;
    await o.nodesChanged().catch((err: unknown) => {
      state.nodesDirty = true;
      throw err;
    });
  }
  await o.bridge.writeBack();
}

async function writeBackLoop(o: WatcherOptions, q: SerialQueue, signal: AbortSignal, state: { nodesDirty: boolean }) {
  while (!signal.aborted) {
    await sleep(o.writeBackEveryMs ?? 2000, signal);
    if (signal.aborted) return;
    await q
      .run(() => writeBackOnce(o, state))
      .catch((err: unknown) => o.log.warn('write-back failed; retried next pass', { error: (err as Error).message }));
  }
}

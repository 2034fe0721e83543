/**
 * The cluster's API server as the watcher sees it, through @kubernetes/client-node (the same client any controller
 * uses): paged lists, watches with bookmarks, and the few writes cluster mode makes to a cluster's objects (our
 * finalizer, the Service's load-balancer status, Events). Writes of metadata are PUTs at the resourceVersion read,
 * retried on Conflict from a fresh read, so a concurrent writer's change is never overwritten.
 */
import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
  type V1LoadBalancerStatus,
  type V1Service,
} from '@kubernetes/client-node';
import { GoneError } from '../errors.js';

/** The cluster collections the watcher follows (all namespaces). */
export type RemoteResource = 'services' | 'nodes' | 'pods';
const PATHS: Record<RemoteResource, string> = {
  services: '/api/v1/services',
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
};
const PAGE = 500;

export type RemoteEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
export interface RemoteEvent {
  type: RemoteEventType;
  object: KubernetesObject;
}

export interface RemoteCluster {
  list(resource: RemoteResource): Promise<{ items: KubernetesObject[]; resourceVersion: string }>;
  /**
   * Streams changes after `resourceVersion` to `onEvent` (called in order, one at a time) until the server ends the
   * stream or `signal` aborts; GoneError when that version is too old (410: the caller relists).
   */
  watch(
    resource: RemoteResource,
    resourceVersion: string,
    onEvent: (e: RemoteEvent) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
  /** The Service with `finalizer` added (or removed), as the server stored it; undefined when it is gone. */
  setFinalizer(svc: V1Service, finalizer: string, present: boolean): Promise<V1Service | undefined>;
  writeLoadBalancerStatus(svc: V1Service, lb: V1LoadBalancerStatus): Promise<void>;
  /** Creates the Event, or raises its count/lastTimestamp when it exists with a lower count (same name). */
  upsertEvent(ev: CoreV1Event): Promise<void>;
}

const codeOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

export class ClientNodeCluster implements RemoteCluster {
  /**
   * `onUnauthorized`: a 401 means the credentials were refused (an EKS token expired early, a rotated kubeconfig
   * secret): the source is told, so the next call builds fresh ones instead of failing until the cache ages out.
   */
  constructor(
    private readonly kubeConfig: () => Promise<KubeConfig>,
    private readonly onUnauthorized: () => void = () => undefined,
  ) {}

  private async core(): Promise<CoreV1Api> {
    const api = (await this.kubeConfig()).makeApiClient(CoreV1Api);
    return new Proxy(api, {
      get: (target, prop, recv) => {
        const v = Reflect.get(target, prop, recv) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) =>
          (v as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch((err: unknown) => {
            if (codeOf(err) === 401) this.onUnauthorized();
            throw err;
          });
      },
    });
  }

  async list(resource: RemoteResource): Promise<{ items: KubernetesObject[]; resourceVersion: string }> {
    const api = await this.core();
    const items: KubernetesObject[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const args = { limit: PAGE, _continue: cont };
      const page =
        resource === 'services'
          ? await api.listServiceForAllNamespaces(args)
          : resource === 'nodes'
            ? await api.listNode(args)
            : await api.listPodForAllNamespaces(args);
      items.push(...(page.items as KubernetesObject[]));
      cont = page.metadata?._continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont);
    return { items, resourceVersion };
  }

  async watch(
    resource: RemoteResource,
    resourceVersion: string,
    onEvent: (e: RemoteEvent) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const kc = await this.kubeConfig();
    // client-node's callback cannot wait: events are chained so each is handled after the one before, in order.
    let chain = Promise.resolve();
    let gone = false;
    let failed: unknown;
    const ended = new Promise<unknown>((resolve) => {
      const onLine = (type: string, object: KubernetesObject & { code?: number }) => {
        if (type === 'ERROR') {
          gone ||= object.code === 410;
          failed ??= new Error(`watch ${resource}: ${JSON.stringify(object).slice(0, 300)}`);
          return;
        }
        chain = chain.then(() => (failed ? undefined : onEvent({ type: type as RemoteEventType, object })));
        chain.catch((err: unknown) => (failed ??= err));
      };
      const query = { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 };
      void new Watch(kc).watch(PATHS[resource], query, onLine, resolve).then((ctl) => {
        if (signal.aborted) ctl.abort();
        else signal.addEventListener('abort', () => ctl.abort(), { once: true });
      });
    });
    const err = await ended;
    await chain.catch(() => undefined);
    if ((err as { statusCode?: number } | null)?.statusCode === 401) this.onUnauthorized();
    if (gone) throw new GoneError(`watch ${resource} from resourceVersion ${resourceVersion}: too old`);
    if (failed) throw failed instanceof Error ? failed : new Error(String(failed));
    if (err && !signal.aborted && (err as Error).name !== 'AbortError') throw err as Error;
  }

  async setFinalizer(svc: V1Service, finalizer: string, present: boolean): Promise<V1Service | undefined> {
    const api = await this.core();
    let cur: V1Service | undefined = svc;
    for (let attempt = 0; cur; attempt++) {
      const held = cur.metadata?.finalizers ?? [];
      if (held.includes(finalizer) === present) return cur;
      const finalizers = present ? [...held, finalizer] : held.filter((f) => f !== finalizer);
      const name: string = cur.metadata?.name ?? '';
      const namespace: string = cur.metadata?.namespace ?? 'default';
      try {
        return await api.replaceNamespacedService({
          name,
          namespace,
          body: { ...cur, metadata: { ...cur.metadata, finalizers } },
        });
      } catch (err) {
        if (codeOf(err) === 404) return undefined;
        if (codeOf(err) !== 409 || attempt >= 4) throw err;
        cur = await api.readNamespacedService({ name, namespace }).catch((e: unknown) => {
          if (codeOf(e) === 404) return undefined;
          throw e;
        });
      }
    }
    return undefined;
  }

  async writeLoadBalancerStatus(svc: V1Service, lb: V1LoadBalancerStatus): Promise<void> {
    const api = await this.core();
    const { name = '', namespace = 'default' } = svc.metadata ?? {};
    try {
      await api.patchNamespacedServiceStatus(
        { name, namespace, body: { status: { loadBalancer: lb } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      if (codeOf(err) !== 404) throw err; // gone meanwhile: nothing to show it on
    }
  }

  async upsertEvent(ev: CoreV1Event): Promise<void> {
    const api = await this.core();
    const { name = '', namespace = 'default' } = ev.metadata ?? {};
    try {
      await api.createNamespacedEvent({ namespace, body: ev });
      return;
    } catch (err) {
      if (codeOf(err) !== 409) throw err;
    }
    const cur = await api.readNamespacedEvent({ name, namespace });
    if ((cur.count ?? 1) >= (ev.count ?? 1)) return;
    await api.patchNamespacedEvent(
      { name, namespace, body: { count: ev.count, lastTimestamp: ev.lastTimestamp, message: ev.message } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

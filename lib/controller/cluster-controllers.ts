/**
 * The kube-controller-manager controllers that make what kubectl users see complete, behind the three hooks the
 * Controller calls: an object message, a node change, a resync.
 *
 * | hook                         | work                                                                            |
 * | ---------------------------- | ------------------------------------------------------------------------------- |
 * | Service message              | its EndpointSlices, Endpoints and mirrored slices (endpoints-controller.ts)     |
 * | Endpoints message            | the same for the Service of that name (mirroring; repair of a changed Endpoints) |
 * | Pod message                  | the same for every Service of the Pod's namespace                               |
 * | Namespace message            | a terminating namespace emptied and finalized (namespace-controller.ts)         |
 * | any DELETED message          | its namespace finalized if terminating and now empty                            |
 * | node change (join, leave)    | Node objects mirrored (node-mirror.ts)                                          |
 * | resync                       | all of the above for everything: Nodes, terminating namespaces, every Service   |
 *
 * EndpointSlice, Node and Event messages trigger nothing here (the controllers write those kinds themselves;
 * Event messages are not even sent). Every step reads the latest stored objects, so late, repeated or reordered
 * messages only cause a redundant sync, and a sync that changes nothing writes nothing.
 */
import type { V1Endpoints, V1Namespace } from '@kubernetes/client-node';
import type { ApiServer } from '../api/server.js';
import { isTerminating } from '../api/namespaces.js';
import type { NodeDataPlaneView } from '../dataplane/node-status.js';
import type { ObjectMessage } from '../events/object-message.js';
import { isControllerManaged } from '../model/endpoints.js';
import type { NodeInfo } from '../model/types.js';
import type { KubeObject } from '../store/types.js';
import { EndpointsController } from './endpoints-controller.js';
import type { EventRecorder } from './event-recorder.js';
import { SOURCES } from './event-recorder.js';
import type { Logger } from './logger.js';
import { NamespaceController } from './namespace-controller.js';
import type { NodeLifecycle } from './node-lifecycle.js';
import { Ec2NodeMirror, type NodeSource } from './node-mirror.js';

export interface ClusterControllersDeps {
  api: ApiServer;
  lifecycle: NodeLifecycle;
  recorder: EventRecorder;
  /** Where Node objects come from; default: the EC2 mirror. */
  nodeSource?: NodeSource;
  /** Each node's data-plane status (the Nodes' DataPlaneReady condition); absent: data plane not configured. */
  dataPlane?: (nodes: readonly NodeInfo[]) => Promise<Map<string, NodeDataPlaneView>>;
  log: Logger;
}

export class ClusterControllers {
  readonly endpoints: EndpointsController;
  readonly namespaces: NamespaceController;
  readonly nodes: NodeSource;
  private discovered: readonly NodeInfo[] = [];

  constructor(private readonly deps: ClusterControllersDeps) {
    const { api, recorder, log } = deps;
    const base = { store: api.store, writes: api.writes, log };
    this.endpoints = new EndpointsController({
      ...base,
      cfg: api.cfg,
      recorder: recorder.for(SOURCES.endpointSliceMirroring),
    });
    this.namespaces = new NamespaceController(base);
    this.nodes =
      deps.nodeSource ??
      new Ec2NodeMirror({
        ...base,
        records: () => deps.lifecycle.records(),
        dataPlane: deps.dataPlane ? () => deps.dataPlane!(this.discovered) : undefined,
        recorders: { node: recorder.for(SOURCES.node), cloudNode: recorder.for(SOURCES.cloudNode) },
      });
  }

  /** An object message whose stored object (`stored`) was at the message's revision, or is gone (DELETED). */
  async onMessage(msg: ObjectMessage, stored: KubeObject | undefined): Promise<void> {
    const ns = msg.namespace;
    if (msg.kind === 'Namespace') await this.namespaces.sync(msg.name);
    else if (msg.kind === 'Service' && msg.subresource !== 'status')
      await this.endpoints.syncService(ns, msg.name, stored ? 'sync' : 'service-deleted');
    // The Endpoints controller's own writes need no sync (upstream watches only their deletion, and mirroring
    // skips them); a deleted one is re-made, a manual one mirrored.
    else if (msg.kind === 'Endpoints' && !(stored && isControllerManaged(stored as V1Endpoints)))
      await this.endpoints.syncService(ns, msg.name);
    else if (msg.kind === 'Pod') await this.endpoints.syncNamespace(ns);
    if (!stored && ns) await this.finalizeIfTerminating(ns);
  }

  /** A new pass (a batch of messages, a resync): cached Node zones are read again. */
  newPass(): void {
    this.endpoints.newPass();
  }

  /** A deleted object may have been the last one holding up its terminating namespace. */
  private async finalizeIfTerminating(namespace: string): Promise<void> {
    const ns = await this.deps.api.store.get<V1Namespace>('Namespace', '', namespace);
    if (ns && isTerminating(ns)) await this.namespaces.sync(namespace);
  }

  /** A node joined or left: the Node objects follow the instances discovered in this pass. */
  async onNodes(discovered: readonly NodeInfo[]): Promise<void> {
    this.discovered = discovered;
    await this.nodes.sync(discovered);
  }

  /**
   * Resync: Nodes, terminating namespaces, then every Service's slices and Endpoints. A failing step is logged and
   * the others still run (the next resync retries it); returns the steps that failed.
   */
  async resync(discovered: readonly NodeInfo[]): Promise<string[]> {
    const failed: string[] = [];
    const step = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        failed.push(name);
        this.deps.log.warn(`resync: ${name} failed; the next resync retries`, { error: (err as Error).message });
      }
    };
    await step('nodes', () => this.onNodes(discovered));
    await step('namespaces', () => this.namespaces.syncAll());
    await step('endpoints', () => this.endpoints.syncAll());
    return failed;
  }
}

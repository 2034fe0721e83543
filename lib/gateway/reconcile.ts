/**
 * The Gateway controller: for each Gateway of a GatewayClass with our controllerName, read what the Gateway API
 * objects say (routes, ReferenceGrants, Services, Namespaces), attach (attach.ts), build the NLB stack (build.ts),
 * converge it with the Service path's planner and apply (lib/lb reconcileDesiredStack), then write GatewayClass,
 * Gateway and route status (status.ts). Reads only the store's latest objects, like the Service controller, so
 * repeated and reordered messages converge. A Gateway that is gone, marked for deletion or no longer of our class
 * loses its stack, found by tag.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import type { ApiServer } from '../api/server.js';
import { UserConflictError } from '../api/preconditions.js';
import { ControllerError, NotFoundError, RequeueError } from '../errors.js';
import { loadEnv, reconcileDesiredStack, reconcileStackTargets, type LoadBalancerContext } from '../lb/index.js';
import type { NodeInfo } from '../model/types.js';
import {
  GATEWAY_CONTROLLER_NAME,
  GATEWAY_KINDS,
  type Gateway,
  type GatewayClass,
  type L4Route,
  type L4RouteKind,
  type ReferenceGrant,
} from '../model/gateway/types.js';
import { attach, routeKey, type Attachment, type RouteObject } from './attach.js';
import { annotationsOf, buildGatewayStack } from './build.js';
import { backendKeyOf, gatewayStack } from './names.js';
import {
  ensureBackendNodePorts,
  releaseBackendNodePorts,
  type BackendPortRef,
  type BackendPortsHandle,
} from './backend-ports.js';
import { gatewayClassStatus, gatewayStatus, routeParents, type GatewayOutcome } from './status.js';

export const ROUTE_KINDS: readonly L4RouteKind[] = ['TCPRoute', 'UDPRoute', 'TLSRoute'];

/** Node ports for backends that have no NodePort of their own (ClusterIP Services): the data plane's allocation. */
export interface BackendPorts {
  ensure(wanted: BackendPortRef[]): Promise<Map<string, number>>;
  /** Releases every allocation not in `keep` (the backends of ALL our Gateways). */
  release(keep: BackendPortRef[]): Promise<string[]>;
}

/**
 * The data plane's allocation (lib/gateway/backend-ports.ts) behind the BackendPorts interface. A class, not an
 * object of closures: building one (every Controller does) reaches no allocation code, so a function that never
 * reconciles Gateways (the data-plane push) is not credited with the pusher's calls (test/infra/iam-actions).
 */
export class StoreBackendPorts implements BackendPorts {
  constructor(private readonly handle: BackendPortsHandle) {}
  ensure(wanted: BackendPortRef[]): Promise<Map<string, number>> {
    return ensureBackendNodePorts(this.handle, wanted);
  }
  release(keep: BackendPortRef[]): Promise<string[]> {
    return releaseBackendNodePorts(this.handle, keep);
  }
}

export interface GatewayDeps {
  api: ApiServer;
  lb?: LoadBalancerContext;
  backendPorts?: BackendPorts;
  log?: (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) => void;
}

export interface GatewayResult {
  key: string;
  hostname?: string;
  requeue?: string;
  /** The backends the Gateway's listeners forward to (for the release of unused hidden node ports). */
  backends?: (BackendPortRef & { hasNodePort: boolean })[];
}

const now = () => new Date().toISOString();
const nsOf = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? 'default';
const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? '';

export class GatewayController {
  constructor(private readonly deps: GatewayDeps) {}

  /** GatewayClasses with our controllerName, by name. */
  async ourClasses(): Promise<Map<string, GatewayClass>> {
    const all = await this.deps.api.list<GatewayClass>(GATEWAY_KINDS.GatewayClass);
    return new Map(all.filter((c) => c.spec?.controllerName === GATEWAY_CONTROLLER_NAME).map((c) => [nameOf(c), c]));
  }

  /** Accepted on every GatewayClass of ours (written only when it changes). */
  async writeClassStatuses(): Promise<void> {
    for (const gc of (await this.ourClasses()).values()) {
      await this.writeStatus(GATEWAY_KINDS.GatewayClass, '', nameOf(gc), () => gatewayClassStatus(gc, now()));
    }
  }

  /** Every Gateway of ours converged; returns the live stack keys (for the orphan sweep) and per-Gateway results. */
  async reconcileAll(nodes: NodeInfo[]): Promise<{ live: string[]; results: GatewayResult[] }> {
    await this.writeClassStatuses();
    const classes = await this.ourClasses();
    const gateways = await this.deps.api.list<Gateway>(GATEWAY_KINDS.Gateway);
    const results: GatewayResult[] = [];
    const live: string[] = [];
    const keep: NonNullable<GatewayResult['backends']> = [];
    let complete = true;
    for (const gw of gateways) {
      if (classes.has(gw.spec?.gatewayClassName ?? '') && !gw.metadata?.deletionTimestamp)
        live.push(gatewayStack(nsOf(gw), nameOf(gw)));
      const r = await this.settle(nsOf(gw), nameOf(gw), nodes);
      results.push(r);
      keep.push(...(r.backends ?? []));
      if (r.requeue) complete = false;
    }
    // Hidden node ports no Gateway uses any more are freed, only after a pass that saw every Gateway through.
    if (complete && this.deps.backendPorts) await this.deps.backendPorts.release(keep.filter((b) => !b.hasNodePort));
    return { live, results };
  }

  /** Node join/leave: every Gateway's target groups follow the nodes (register/deregister only). */
  async updateTargets(nodes: NodeInfo[]): Promise<string[]> {
    const lb = this.deps.lb;
    if (!lb) return [];
    const classes = await this.ourClasses();
    const requeue: string[] = [];
    for (const gw of await this.deps.api.list<Gateway>(GATEWAY_KINDS.Gateway)) {
      if (!classes.has(gw.spec?.gatewayClassName ?? '') || gw.metadata?.deletionTimestamp) continue;
      try {
        const { built } = await this.build(gw, nodes);
        if (built.desired) await reconcileStackTargets(lb, built.desired);
      } catch (err) {
        requeue.push(`${nsOf(gw)}/${nameOf(gw)}: ${(err as Error).message}`);
      }
    }
    return requeue;
  }

  /** One Gateway, as reconcileGateway, with a requeue reported instead of thrown (batch passes). */
  private async settle(ns: string, name: string, nodes: NodeInfo[]): Promise<GatewayResult> {
    try {
      return await this.reconcileGateway(ns, name, nodes);
    } catch (err) {
      // One Gateway's failure must not stop the pass over the others (nor the sweep after it).
      this.deps.log?.('warn', 'gateway not converged; retried next pass', { key: `${ns}/${name}`, error: String(err) });
      return { key: `${ns}/${name}`, requeue: (err as Error).message };
    }
  }

  /**
   * Converges one Gateway's NLB and writes its status and its routes' status. Throws RequeueError/TransientError
   * when the same input should be retried (after writing Programmed=False with the reason).
   */
  async reconcileGateway(ns: string, name: string, nodes: NodeInfo[]): Promise<GatewayResult> {
    const key = `${ns}/${name}`;
    const gw = await this.deps.api.find<Gateway>(GATEWAY_KINDS.Gateway, ns, name);
    const classes = await this.ourClasses();
    const ours = gw && classes.has(gw.spec?.gatewayClassName ?? '') && !gw.metadata?.deletionTimestamp;
    if (!ours) {
      if (this.deps.lb) await reconcileDesiredStack(this.deps.lb, gatewayStack(ns, name), null);
      await this.forgetParent(ns, name);
      return { key };
    }
    const { built, attachment } = await this.build(gw, nodes);
    let outcome: GatewayOutcome;
    let requeue: Error | undefined;
    if (!this.deps.lb) outcome = { pending: 'no load balancer configuration: this control plane makes no NLBs' };
    else if (!built.desired) outcome = { error: built.errors.join('; ') };
    else {
      try {
        const r = await reconcileDesiredStack(this.deps.lb, built.desired.stack, built.desired);
        outcome = { hostname: r.hostname };
        if (r.warnings.length) this.deps.log?.('warn', 'gateway load balancer warnings', { key, warnings: r.warnings });
      } catch (err) {
        if (err instanceof ControllerError && err.permanent) outcome = { error: err.message };
        else {
          requeue = err as Error;
          outcome = { pending: (err as Error).message };
        }
      }
    }
    await this.writeStatuses(gw, attachment, outcome, built.listenerErrors);
    if (requeue)
      throw requeue instanceof ControllerError ? requeue : new RequeueError(requeue.message, 10, { cause: requeue });
    return { key, hostname: outcome.hostname };
  }

  /** What the Gateway's NLB should be, from the store's current objects. */
  private async build(gw: Gateway, nodes: NodeInfo[]) {
    const api = this.deps.api;
    const [routes, services, grants, namespaces] = await Promise.all([
      this.routes(),
      api.listServices(),
      api.list<ReferenceGrant>(GATEWAY_KINDS.ReferenceGrant),
      api.list<V1Namespace>('Namespace'),
    ]);
    const attachment = attach({ gateway: gw, routes, services, grants, namespaces });
    const nodePorts = await this.nodePorts(attachment);
    const env = this.deps.lb
      ? await loadEnv(this.deps.lb, [annotationsOf(gw)], nodes)
      : { clusterName: '', vpcId: '', subnets: [], nodes };
    return { attachment, built: buildGatewayStack(gw, attachment, nodePorts, env) };
  }

  async routes(): Promise<RouteObject[]> {
    const lists = await Promise.all(
      ROUTE_KINDS.map(async (kind) =>
        (await this.deps.api.list<L4Route>(GATEWAY_KINDS[kind])).map((route) => ({ kind, route })),
      ),
    );
    return lists.flat();
  }

  /** Each programmed backend's node port: its own NodePort, else the data plane's allocation (when configured). */
  private async nodePorts(a: Attachment): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing = [];
    for (const b of a.listeners.flatMap((l) => l.backends)) {
      if (b.nodePort) out.set(backendKeyOf(b), b.nodePort);
      else missing.push(b);
    }
    if (missing.length && this.deps.backendPorts) {
      for (const [k, v] of await this.deps.backendPorts.ensure(missing)) out.set(k, v);
    }
    return out;
  }

  private async writeStatuses(
    gw: Gateway,
    a: Attachment,
    outcome: GatewayOutcome,
    listenerErrors: Map<string, string>,
  ): Promise<void> {
    for (const l of a.listeners) {
      const why = listenerErrors.get(l.listener.name);
      if (why) {
        l.valid = false;
        l.conditions = l.conditions.filter((c) => c.type !== 'Accepted');
        l.conditions.unshift({ type: 'Accepted', status: 'False', reason: 'UnsupportedProtocol', message: why });
      }
    }
    await this.writeStatus(GATEWAY_KINDS.Gateway, nsOf(gw), nameOf(gw), () => gatewayStatus(gw, a, outcome, now()));
    const routes = await this.routes();
    for (const [key, results] of a.routes) {
      const r = routes.find((x) => routeKey(x) === key);
      if (!r) continue;
      const parents = routeParents(r.route, gw, results, now());
      await this.writeStatus(GATEWAY_KINDS[r.kind], nsOf(r.route), nameOf(r.route), (st: L4Route['status']) => ({
        ...st,
        parents,
      }));
    }
  }

  /**
   * The Gateway is gone (or no longer ours): routes drop the parent entries our controller wrote for it, so none
   * still says Accepted for a Gateway that does not carry it.
   */
  private async forgetParent(ns: string, name: string): Promise<void> {
    const stub = { metadata: { namespace: ns, name } } as Gateway;
    for (const r of await this.routes()) {
      const rns = nsOf(r.route);
      const ours = (r.route.status?.parents ?? []).some(
        (p) =>
          p.controllerName === GATEWAY_CONTROLLER_NAME &&
          p.parentRef.name === name &&
          (p.parentRef.namespace ?? rns) === ns,
      );
      if (!ours) continue;
      const parents = routeParents(r.route, stub, [], now());
      await this.writeStatus(GATEWAY_KINDS[r.kind], rns, nameOf(r.route), (st: L4Route['status']) => ({
        ...st,
        parents,
      }));
    }
  }

  /** A status write that loses to a concurrent spec change or a deletion is left to the next pass. */
  private async writeStatus<S>(kind: string, ns: string, name: string, mutate: (s: S) => S | undefined): Promise<void> {
    try {
      await this.deps.api.updateStatusOf(kind, ns, name, mutate);
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof UserConflictError) return;
      throw err;
    }
  }

  /** Our Gateways that a route with a backendRef to Service ns/name names as a parent. */
  private async gatewaysUsing(ns: string, name: string, gateways: Gateway[]): Promise<string[]> {
    const out = new Set<string>();
    for (const { route } of await this.routes()) {
      const rns = nsOf(route);
      const uses = (route.spec?.rules ?? []).some((rule) =>
        (rule.backendRefs ?? []).some((b) => b.name === name && (b.namespace ?? rns) === ns),
      );
      if (!uses) continue;
      for (const p of route.spec?.parentRefs ?? []) out.add(`${p.namespace ?? rns}/${p.name}`);
    }
    return gateways.map((g) => `${nsOf(g)}/${nameOf(g)}`).filter((k) => out.has(k));
  }

  /**
   * The Gateways a change of one object may affect: a route's parents (now and as its status last recorded), the
   * Gateways of a class, or every Gateway of ours whose routes name a Service or whose routes may use a grant.
   */
  async affectedBy(kind: string, ns: string, name: string): Promise<string[]> {
    if (kind === GATEWAY_KINDS.Gateway) return [`${ns}/${name}`];
    if (kind === GATEWAY_KINDS.GatewayClass)
      return (await this.deps.api.list<Gateway>(GATEWAY_KINDS.Gateway))
        .filter((g) => g.spec?.gatewayClassName === name)
        .map((g) => `${nsOf(g)}/${nameOf(g)}`);
    // Every Service and Namespace write asks: one read (the classes) when this cluster has no Gateway class of ours.
    const classes = await this.ourClasses();
    if (classes.size === 0) return [];
    const all = await this.deps.api.list<Gateway>(GATEWAY_KINDS.Gateway);
    const gateways = all.filter((g) => classes.has(g.spec?.gatewayClassName ?? ''));
    if (gateways.length === 0) return [];
    if (kind === GATEWAY_KINDS.ReferenceGrant || kind === 'Namespace')
      return gateways.map((g) => `${nsOf(g)}/${nameOf(g)}`);
    if (kind === 'Service') return this.gatewaysUsing(ns, name, gateways);
    const routeKind = ROUTE_KINDS.find((k) => GATEWAY_KINDS[k] === kind);
    if (!routeKind) return [];
    const route = await this.deps.api.find<L4Route>(kind, ns, name);
    const named = new Set<string>();
    for (const p of route?.spec?.parentRefs ?? []) named.add(`${p.namespace ?? ns}/${p.name}`);
    // A deleted route or a removed parentRef: the Gateways it was attached to must drop its listener.
    for (const g of gateways) {
      const status = g.status?.listeners ?? [];
      if (status.some((l) => (l.attachedRoutes ?? 0) > 0)) named.add(`${nsOf(g)}/${nameOf(g)}`);
    }
    return [...named].filter((k) => gateways.some((g) => `${nsOf(g)}/${nameOf(g)}` === k) || k === `${ns}/${name}`);
  }
}

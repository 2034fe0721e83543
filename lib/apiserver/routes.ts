/**
 * URL paths to routes, as kube-apiserver lays them out:
 *   /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>                    discovery
 *   /<prefix>/<resource>[/<name>[/<subresource>]]                                     cluster-scoped, or all namespaces
 *   /<prefix>/namespaces/<ns>/<resource>[/<name>[/<subresource>]]                      namespaced
 *   /<prefix>/watch/...                                                               legacy watch (same shapes)
 * where <prefix> is `api/v1` or `apis/<group>/<version>`. `/api/v1/namespaces/<name>[/status]` is the Namespace
 * object itself: after `namespaces/<x>` a segment that is a subresource of namespaces wins over a resource name.
 */
import type { ResourceInfo } from '../api/backend.js';

export type Route =
  | { kind: 'health'; check: string }
  | { kind: 'version' }
  | { kind: 'api' }
  | { kind: 'apis' }
  | { kind: 'group'; group: string }
  | { kind: 'groupVersion'; group: string; version: string }
  | { kind: 'openapi'; rest: string[]; version: 'v2' | 'v3' }
  | ResourceRoute
  | { kind: 'unknown' };

export interface ResourceRoute {
  kind: 'resource';
  info: ResourceInfo;
  /** Set for requests under /namespaces/<ns>/; absent for cluster-scoped and all-namespaces requests. */
  namespace?: string;
  name?: string;
  subresource?: string;
  /** The legacy /watch/ prefix was used. */
  watchPrefix: boolean;
}

const HEALTH = new Set(['healthz', 'livez', 'readyz']);

function decodeSegments(path: string): string[] | undefined {
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export class Router {
  /** `group/version` -> resource -> info. */
  private readonly byGv = new Map<string, Map<string, ResourceInfo>>();

  constructor(resources: readonly ResourceInfo[]) {
    for (const r of resources) {
      const gv = `${r.group}/${r.version}`;
      if (!this.byGv.has(gv)) this.byGv.set(gv, new Map());
      this.byGv.get(gv)!.set(r.resource, r);
    }
  }

  route(path: string): Route {
    const seg = decodeSegments(path);
    if (!seg) return { kind: 'unknown' };
    const [first, second, third] = seg;
    if (seg.length === 0) return { kind: 'unknown' };
    if (HEALTH.has(first!)) return { kind: 'health', check: seg.join('/') };
    if (first === 'version' && seg.length === 1) return { kind: 'version' };
    if (first === 'openapi' && (second === 'v2' || second === 'v3')) {
      return { kind: 'openapi', version: second, rest: seg.slice(2) };
    }
    if (first === 'api') {
      if (seg.length === 1) return { kind: 'api' };
      if (second !== 'v1') return { kind: 'unknown' };
      if (seg.length === 2) return { kind: 'groupVersion', group: '', version: 'v1' };
      return this.resourceRoute('', 'v1', seg.slice(2));
    }
    if (first === 'apis') {
      if (seg.length === 1) return { kind: 'apis' };
      if (seg.length === 2) return this.hasGroup(second!) ? { kind: 'group', group: second! } : { kind: 'unknown' };
      if (!this.byGv.has(`${second}/${third}`)) return { kind: 'unknown' };
      if (seg.length === 3) return { kind: 'groupVersion', group: second!, version: third! };
      return this.resourceRoute(second!, third!, seg.slice(3));
    }
    return { kind: 'unknown' };
  }

  hasGroup(group: string): boolean {
    return [...this.byGv.keys()].some((gv) => gv.startsWith(`${group}/`));
  }

  private resourceRoute(group: string, version: string, rest: string[]): Route {
    const table = this.byGv.get(`${group}/${version}`);
    if (!table) return { kind: 'unknown' };
    const watchPrefix = rest[0] === 'watch';
    const seg = watchPrefix ? rest.slice(1) : rest;
    const namespaces = table.get('namespaces');
    if (seg[0] === 'namespaces' && seg.length >= 3) {
      const [, ns, third] = seg;
      const nsSub = namespaces?.subresources.includes(third as 'status');
      if (!nsSub) return this.build(table, seg.slice(2), watchPrefix, ns);
    }
    return this.build(table, seg, watchPrefix, undefined);
  }

  private build(table: Map<string, ResourceInfo>, seg: string[], watchPrefix: boolean, namespace?: string): Route {
    const [resource, name, subresource, ...extra] = seg;
    const info = resource ? table.get(resource) : undefined;
    if (!info || extra.length > 0) return { kind: 'unknown' };
    if (namespace !== undefined && !info.namespaced) return { kind: 'unknown' };
    if (subresource !== undefined && !info.subresources.includes(subresource as 'status')) return { kind: 'unknown' };
    if (watchPrefix && subresource !== undefined) return { kind: 'unknown' };
    const route: ResourceRoute = { kind: 'resource', info, watchPrefix };
    if (namespace !== undefined) route.namespace = namespace;
    if (name !== undefined) route.name = name;
    if (subresource !== undefined) route.subresource = subresource;
    return route;
  }
}

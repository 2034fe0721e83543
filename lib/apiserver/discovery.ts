/**
 * Discovery documents (k8s.io/apiserver/pkg/endpoints/discovery): /version, the legacy /api and /apis listings, one
 * APIGroup and APIResourceList per group/version, and aggregated discovery (apidiscovery.k8s.io v2 and v2beta1),
 * which kubectl 1.32 asks for first so that one request to /api and one to /apis replace a request per group.
 * Everything is derived from the registry's ResourceInfo list and computed once.
 */
import { apiVersionOf, type ResourceInfo } from '../api/backend.js';

/** What /version reports: kubectl compares minor versions for its skew warning. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: 'serverless-service-controller',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'n/a',
  compiler: 'n/a',
  platform: 'linux/amd64',
};

/** Subresource verbs as upstream registers them for `status`. */
const STATUS_VERBS = ['get', 'patch', 'update'];

const groupsOf = (resources: readonly ResourceInfo[]): string[] => [
  ...new Set(resources.filter((r) => r.group !== '').map((r) => r.group)),
];
const versionsOf = (resources: readonly ResourceInfo[], group: string): string[] => [
  ...new Set(resources.filter((r) => r.group === group).map((r) => r.version)),
];

function statusVerbs(r: ResourceInfo): string[] {
  return STATUS_VERBS.filter((v) => v === 'get' || r.verbs.includes(v));
}

function apiResource(r: ResourceInfo): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: r.resource,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length > 0) main.shortNames = [...r.shortNames];
  if (r.categories.length > 0) main.categories = [...r.categories];
  const subs = r.subresources.map((s) => ({
    name: `${r.resource}/${s}`,
    singularName: '',
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: statusVerbs(r),
  }));
  return [main, ...subs];
}

function groupVersionEntry(group: string, version: string) {
  return { groupVersion: apiVersionOf({ group, version }), version };
}

function aggregatedResource(r: ResourceInfo): Record<string, unknown> {
  const responseKind = { group: r.group, version: r.version, kind: r.kind };
  const out: Record<string, unknown> = {
    resource: r.resource,
    responseKind,
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length > 0) out.shortNames = [...r.shortNames];
  if (r.categories.length > 0) out.categories = [...r.categories];
  if (r.subresources.length > 0) {
    out.subresources = r.subresources.map((s) => ({ subresource: s, responseKind, verbs: statusVerbs(r) }));
  }
  return out;
}

export class Discovery {
  constructor(private readonly resources: readonly ResourceInfo[]) {}

  /** GET /api (legacy). */
  apiVersions(serverAddress: string) {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    };
  }

  private apiGroup(group: string) {
    const versions = versionsOf(this.resources, group).map((v) => groupVersionEntry(group, v));
    return { name: group, versions, preferredVersion: versions[0] };
  }

  /** GET /apis (legacy). */
  apiGroupList() {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupsOf(this.resources).map((g) => this.apiGroup(g)) };
  }

  /** GET /apis/<group>. */
  group(group: string) {
    return { kind: 'APIGroup', apiVersion: 'v1', ...this.apiGroup(group) };
  }

  /** GET /api/v1 or /apis/<group>/<version>. */
  resourceList(group: string, version: string) {
    const rs = this.resources.filter((r) => r.group === group && r.version === version);
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: apiVersionOf({ group, version }),
      resources: rs.flatMap(apiResource),
    };
  }

  /** Aggregated discovery: core alone for /api, every named group for /apis. */
  aggregated(core: boolean, version: 'v2' | 'v2beta1') {
    const groups = core ? [''] : groupsOf(this.resources);
    const items = groups.map((group) => ({
      metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
      versions: versionsOf(this.resources, group).map((v) => ({
        version: v,
        resources: this.resources.filter((r) => r.group === group && r.version === v).map(aggregatedResource),
        freshness: 'Current',
      })),
    }));
    return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
  }
}

export const aggregatedContentType = (version: 'v2' | 'v2beta1'): string =>
  `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;

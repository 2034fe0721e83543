/**
 * The served resources for tests of the REST layer, mirroring upstream discovery (verbs, short names, categories,
 * status subresources). The real registry arrives with the write path; this list stays in test support so merging
 * is a matter of pointing the tests at it.
 */
import type { ResourceInfo } from '../../lib/api/backend.js';

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const RO = ['get', 'list', 'watch'];

const core = (r: Omit<ResourceInfo, 'group' | 'version'>): ResourceInfo => ({ group: '', version: 'v1', ...r });

export const TEST_RESOURCES: readonly ResourceInfo[] = [
  core({
    kind: 'Namespace',
    resource: 'namespaces',
    singular: 'namespace',
    shortNames: ['ns'],
    namespaced: false,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
    categories: [],
    systemOwned: false,
  }),
  core({
    kind: 'Service',
    resource: 'services',
    singular: 'service',
    shortNames: ['svc'],
    namespaced: true,
    verbs: RW,
    subresources: ['status'],
    categories: ['all'],
    systemOwned: false,
  }),
  core({
    kind: 'Pod',
    resource: 'pods',
    singular: 'pod',
    shortNames: ['po'],
    namespaced: true,
    verbs: RW,
    subresources: ['status'],
    categories: ['all'],
    systemOwned: false,
  }),
  core({
    kind: 'Endpoints',
    resource: 'endpoints',
    singular: 'endpoints',
    shortNames: ['ep'],
    namespaced: true,
    verbs: RW,
    subresources: [],
    categories: [],
    systemOwned: false,
  }),
  core({
    kind: 'Node',
    resource: 'nodes',
    singular: 'node',
    shortNames: ['no'],
    namespaced: false,
    verbs: RO,
    subresources: [],
    categories: [],
    systemOwned: true,
  }),
  core({
    kind: 'Event',
    resource: 'events',
    singular: 'event',
    shortNames: ['ev'],
    namespaced: true,
    verbs: RW,
    subresources: [],
    categories: [],
    systemOwned: false,
  }),
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    resource: 'endpointslices',
    singular: 'endpointslice',
    shortNames: [],
    namespaced: true,
    verbs: RO,
    subresources: [],
    categories: [],
    systemOwned: true,
  },
];

export const resourceOf = (resource: string): ResourceInfo => {
  const r = TEST_RESOURCES.find((x) => x.resource === resource);
  if (!r) throw new Error(`no resource ${resource}`);
  return r;
};

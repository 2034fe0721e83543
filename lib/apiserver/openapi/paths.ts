/**
 * OpenAPI v3 path items for the served resources, laid out like kube-apiserver's: collection and item paths per
 * scope, a `status` path per subresource, one operation per verb the ResourceInfo lists, each with
 * x-kubernetes-action and x-kubernetes-group-version-kind. kubectl reads two things from them: the PATCH operation's
 * query parameters (a `fieldValidation` parameter means the server validates fields, so kubectl sends
 * fieldValidation=Strict instead of validating on the client; `dryRun` likewise for --dry-run=server) and the PATCH
 * request body's media types (strategic-merge-patch+json means kubectl apply may compute a strategic merge patch from
 * these schemas).
 */
import { apiVersionOf, type ResourceInfo } from '../../api/backend.js';
import { GATEWAY_GROUP } from '../../model/gateway/types.js';

type Obj = Record<string, unknown>;

const q = (name: string, type: 'string' | 'integer' | 'boolean', description: string): Obj => ({
  name,
  in: 'query',
  description,
  schema: { type, uniqueItems: true },
});
const pathParam = (name: string, description: string): Obj => ({
  name,
  in: 'path',
  description,
  required: true,
  schema: { type: 'string', uniqueItems: true },
});

const PRETTY = q('pretty', 'string', "If 'true', then the output is pretty printed.");
const DRY_RUN = q('dryRun', 'string', 'When present, indicates that modifications should not be persisted (All).');
const FIELD_MANAGER = q('fieldManager', 'string', 'A name associated with the actor or entity making these changes.');
const FIELD_VALIDATION = q(
  'fieldValidation',
  'string',
  'How the server handles unknown or duplicate fields: Ignore, Warn or Strict.',
);
const WRITE_PARAMS = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const LIST_PARAMS = [
  q('allowWatchBookmarks', 'boolean', 'Requests watch events with type "BOOKMARK".'),
  q('continue', 'string', 'The continue token of the previous page.'),
  q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields.'),
  q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels.'),
  q('limit', 'integer', 'Maximum number of responses to return for a list call.'),
  q('resourceVersion', 'string', 'Constrains which resource versions a request may be served from.'),
  q('resourceVersionMatch', 'string', 'How resourceVersion is applied to list calls.'),
  q('sendInitialEvents', 'boolean', 'Start a watch with synthetic ADDED events for the current state.'),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  q('watch', 'boolean', 'Watch for changes to the described resources.'),
];
const DELETE_PARAMS = [
  DRY_RUN,
  q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  q('propagationPolicy', 'string', 'Whether and how garbage collection will be performed.'),
];

const schemaRef = (def: string): Obj => ({ $ref: `#/components/schemas/${def}` });
const json = (def: string): Obj => ({ 'application/json': { schema: schemaRef(def) } });
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

/** Kinds served as custom resources (their schemas come from their CRDs: lib/model/gateway). */
export const isCustomResource = (r: Pick<ResourceInfo, 'group'>): boolean => r.group === GATEWAY_GROUP;

/**
 * The schema definition name of a kind: io.k8s.api.<group-package>.<version>.<Kind>, and for custom resources the
 * apiextensions apiserver's name, the group reversed: io.k8s.networking.gateway.v1.Gateway.
 */
export function definitionOf(r: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): string {
  if (isCustomResource(r)) return `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`;
  const pkg = r.group === '' ? 'core' : r.group.split('.')[0]!;
  return `io.k8s.api.${pkg}.${r.version}.${r.kind}`;
}

interface OpSpec {
  action: string;
  verb: string;
  params: Obj[];
  response: string;
  body?: Obj;
  ok?: string;
}

function operation(r: ResourceInfo, spec: OpSpec, sub: string): Obj {
  const op: Obj = {
    operationId: `${spec.action}${r.kind}${sub}`,
    tags: [`${r.group || 'core'}_${r.version}`],
    parameters: spec.params,
    responses: {
      [spec.ok ?? '200']: { description: 'OK', content: json(spec.response) },
      '401': { description: 'Unauthorized' },
    },
    'x-kubernetes-action': spec.verb,
    'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
  };
  if (spec.body) op.requestBody = { content: spec.body, required: true };
  return op;
}

function itemOps(r: ResourceInfo, def: string, sub: '' | 'Status'): Obj {
  const ops: Obj = {};
  const has = (v: string) => r.verbs.includes(v);
  ops.get = operation(r, { action: 'read', verb: 'get', params: [], response: def }, sub);
  if (has('update')) {
    ops.put = operation(
      r,
      { action: 'replace', verb: 'put', params: WRITE_PARAMS, response: def, body: json(def) },
      sub,
    );
  }
  if (has('patch')) {
    // Custom resources take no strategic merge patch upstream: kubectl apply then sends a JSON merge patch.
    const types = isCustomResource(r) ? PATCH_TYPES.filter((t) => !t.includes('strategic')) : PATCH_TYPES;
    const body = Object.fromEntries(types.map((t) => [t, { schema: schemaRef(`${META}Patch`) }]));
    const params = [...WRITE_PARAMS, q('force', 'boolean', 'Force is going to "force" Apply requests.')];
    ops.patch = operation(r, { action: 'patch', verb: 'patch', params, response: def, body }, sub);
  }
  if (has('delete') && sub === '') {
    const body = json(`${META}DeleteOptions`);
    ops.delete = operation(r, { action: 'delete', verb: 'delete', params: DELETE_PARAMS, response: def, body }, sub);
  }
  return ops;
}

function collectionOps(r: ResourceInfo, def: string): Obj {
  const ops: Obj = {};
  if (r.verbs.includes('list')) {
    ops.get = operation(r, { action: 'list', verb: 'list', params: LIST_PARAMS, response: `${def}List` }, '');
  }
  if (r.verbs.includes('create')) {
    const spec = { action: 'create', verb: 'post', params: WRITE_PARAMS, response: def, body: json(def), ok: '201' };
    ops.post = operation(r, spec, '');
  }
  if (r.verbs.includes('deletecollection')) {
    const spec = { action: 'deletecollection', verb: 'deletecollection', params: [...DELETE_PARAMS, ...LIST_PARAMS] };
    ops.delete = operation(r, { ...spec, response: `${META}Status`, body: json(`${META}DeleteOptions`) }, '');
  }
  return ops;
}

/** Path items of one resource, keyed by path. */
export function resourcePaths(r: ResourceInfo): Record<string, Obj> {
  const def = definitionOf(r);
  const prefix = r.group === '' ? '/api/v1' : `/apis/${apiVersionOf(r)}`;
  const base = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
  const scopeParams = r.namespaced
    ? [pathParam('namespace', 'object name and auth scope, such as for teams and projects')]
    : [];
  const nameParam = pathParam('name', `name of the ${r.kind}`);
  const out: Record<string, Obj> = {
    [base]: { ...collectionOps(r, def), parameters: [...scopeParams, PRETTY] },
    [`${base}/{name}`]: { ...itemOps(r, def, ''), parameters: [nameParam, ...scopeParams, PRETTY] },
  };
  for (const s of r.subresources) {
    out[`${base}/{name}/${s}`] = { ...itemOps(r, def, 'Status'), parameters: [nameParam, ...scopeParams, PRETTY] };
  }
  if (r.namespaced && r.verbs.includes('list')) {
    const all = { action: 'list', verb: 'list', params: LIST_PARAMS, response: `${def}List` };
    out[`${prefix}/${r.resource}`] = { get: operation(r, all, 'ForAllNamespaces'), parameters: [PRETTY] };
  }
  return out;
}

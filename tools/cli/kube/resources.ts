/**
 * Resource names as kubectl resolves them (plural, singular, short name, `resource.group`) and the REST paths of
 * the resources this API serves. The list is the server's own (lib/api/resources.ts), so svcctl needs no discovery
 * round trip before its first request.
 */
import { apiVersionOf, type ResourceInfo } from '../../../lib/api/backend.js';
import { RESOURCES } from '../../../lib/api/resources.js';

export type { ResourceInfo };

export class UnknownResourceError extends Error {}

export function resourceFor(arg: string): ResourceInfo {
  const [name, ...groupParts] = arg.toLowerCase().split('.');
  const group = groupParts.join('.');
  const hit = RESOURCES.find(
    (r) =>
      (group === '' || r.group === group) &&
      (r.resource === name || r.singular === name || r.shortNames.includes(name ?? '')),
  );
  if (!hit) throw new UnknownResourceError(`the server doesn't have a resource type "${arg}"`);
  return hit;
}

export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
}

/** `/api/v1[/namespaces/NS]/services` or `/apis/G/V[/namespaces/NS]/R`; no namespace: every namespace. */
export function collectionPath(r: ResourceInfo, namespace?: string): string {
  const root = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root}${ns}/${r.resource}`;
}

export function objectPath(r: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

/** `service`, `endpointslice.discovery.k8s.io`: how kubectl names an object's kind in its output. */
export const kindName = (r: ResourceInfo): string =>
  r.group ? `${r.kind.toLowerCase()}.${r.group}` : r.kind.toLowerCase();

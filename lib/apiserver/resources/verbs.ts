/**
 * HTTP method + route -> Kubernetes verb (the same mapping RBAC uses), and dispatch to the verb handlers. A verb the
 * resource does not list in discovery is 405 MethodNotAllowed, as the apiserver answers for e.g. POST on nodes here.
 */
import { MethodNotSupportedError } from '../../errors.js';
import type { ApiResponse } from '../http/types.js';
import type { ResourceRoute } from '../routes.js';
import type { ResourceContext } from './context.js';
import { patchObject } from './patch.js';
import { getObject, listObjects } from './read.js';
import { boolParam } from './query.js';
import { watchObjects } from './watch.js';
import { createObject, deleteCollection, deleteObject, updateObject } from './write.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export function verbOf(method: string, route: ResourceRoute, query: URLSearchParams): Verb | undefined {
  const item = route.name !== undefined;
  const watching = route.watchPrefix || boolParam(query, 'watch');
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watching) return 'watch';
      return item ? 'get' : 'list';
    case 'POST':
      return item ? undefined : 'create';
    case 'PUT':
      return item ? 'update' : undefined;
    case 'PATCH':
      return item ? 'patch' : undefined;
    case 'DELETE':
      return item ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

const HANDLERS: Record<Verb, (ctx: ResourceContext) => Promise<ApiResponse> | ApiResponse> = {
  get: getObject,
  list: listObjects,
  watch: watchObjects,
  create: createObject,
  update: updateObject,
  patch: patchObject,
  delete: deleteObject,
  deletecollection: deleteCollection,
};

/** Subresources (status) serve get, update and patch only. */
const SUBRESOURCE_VERBS = new Set<Verb>(['get', 'update', 'patch']);

export function checkVerb(verb: Verb | undefined, route: ResourceRoute): Verb {
  const allowed =
    verb !== undefined &&
    (route.subresource
      ? SUBRESOURCE_VERBS.has(verb) && (verb === 'get' || route.info.verbs.includes(verb))
      : route.info.verbs.includes(verb));
  if (!allowed) throw new MethodNotSupportedError('the server does not allow this method on the requested resource');
  return verb;
}

export function serveResource(verb: Verb, ctx: ResourceContext): Promise<ApiResponse> | ApiResponse {
  return HANDLERS[verb](ctx);
}

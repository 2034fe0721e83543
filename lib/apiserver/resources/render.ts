/**
 * Objects and lists in the representation the client negotiated: the object itself, a Table, or
 * PartialObjectMetadata(List).
 */
import { apiVersionOf, type ApiObject, type ResourceInfo } from '../../api/backend.js';
import { jsonResponse, type BufferedResponse } from '../http/types.js';
import { negotiate, type Representation } from '../negotiate.js';
import { failure, statusResponse } from '../status.js';
import { parseIncludeObject, toTable } from '../table/convert.js';
import type { ResourceContext } from './context.js';
import { GatewayClassLookup } from './gateway-classes.js';

export function representation(ctx: ResourceContext): Representation {
  return negotiate(ctx.req.headers.accept);
}

export function notAcceptable(): BufferedResponse {
  return statusResponse(
    failure(
      'NotAcceptable',
      'only the following media types are accepted: application/json, application/yaml',
      {},
      406,
    ),
  );
}

export async function renderObject(
  ctx: ResourceContext,
  obj: ApiObject,
  status = 200,
  headers: Record<string, string> = {},
): Promise<BufferedResponse> {
  const rep = representation(ctx);
  if (rep.as === 'NotAcceptable') return notAcceptable();
  if (rep.as === 'Table') {
    const includeObject = parseIncludeObject(ctx.req.query.get('includeObject'));
    const meta = { resourceVersion: obj.metadata?.resourceVersion ?? '' };
    const opts = {
      includeObject,
      noHeaders: false,
      version: rep.version,
      now: ctx.opts.now(),
      pricing: ctx.opts.pricing,
      gatewayClasses: await new GatewayClassLookup(ctx).for([obj]),
    };
    return jsonResponse(status, toTable(ctx.route.info.kind, [obj], meta, opts), headers);
  }
  if (rep.as === 'PartialObjectMetadata') {
    const pom = { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${rep.version}`, metadata: obj.metadata };
    return jsonResponse(status, pom, headers);
  }
  return jsonResponse(status, obj, headers);
}

export async function renderList(
  ctx: ResourceContext,
  r: ResourceInfo,
  items: ApiObject[],
  listMeta: Record<string, unknown>,
): Promise<BufferedResponse> {
  const rep = representation(ctx);
  if (rep.as === 'NotAcceptable') return notAcceptable();
  if (rep.as === 'Table') {
    const includeObject = parseIncludeObject(ctx.req.query.get('includeObject'));
    const opts = {
      includeObject,
      noHeaders: false,
      version: rep.version,
      now: ctx.opts.now(),
      pricing: ctx.opts.pricing,
      gatewayClasses: await new GatewayClassLookup(ctx).for(items),
    };
    return jsonResponse(200, toTable(r.kind, items, listMeta, opts));
  }
  if (rep.as === 'PartialObjectMetadata') {
    const pomItems = items.map((o) => ({
      kind: 'PartialObjectMetadata',
      apiVersion: `meta.k8s.io/${rep.version}`,
      metadata: o.metadata,
    }));
    const list = {
      kind: 'PartialObjectMetadataList',
      apiVersion: `meta.k8s.io/${rep.version}`,
      metadata: listMeta,
      items: pomItems,
    };
    return jsonResponse(200, list);
  }
  return jsonResponse(200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: listMeta, items });
}

/** GET of one object and LIST (selectors, limit/continue, resourceVersion semantics). */
import type { ApiObject } from '../../api/backend.js';
import { BadRequestError, ControllerError, GoneError } from '../../errors.js';
import type { ApiResponse } from '../http/types.js';
import { matchesFields, parseFieldSelector, type FieldSelector } from '../selectors/fields.js';
import { matchesLabels, parseLabelSelector, type LabelSelector } from '../selectors/labels.js';
import type { ResourceContext } from './context.js';
import { decodeContinue, keyOf, paginate } from './pagination.js';
import { intParam } from './query.js';
import { renderList, renderObject } from './render.js';

export async function getObject(ctx: ResourceContext): Promise<ApiResponse> {
  const { info, namespace, name } = ctx.route;
  const obj = await ctx.backend.get(info, namespace, name!);
  return renderObject(ctx, obj);
}

export interface Selectors {
  labels: LabelSelector;
  fields: FieldSelector;
}

export function selectorsOf(ctx: ResourceContext): Selectors {
  const q = ctx.req.query;
  return {
    labels: parseLabelSelector(q.get('labelSelector')),
    fields: parseFieldSelector(q.get('fieldSelector'), ctx.route.info.kind),
  };
}

export function matches(sel: Selectors, o: ApiObject, kind: string): boolean {
  return matchesLabels(sel.labels, o.metadata?.labels) && matchesFields(sel.fields, o, kind);
}

class TooLargeResourceVersionError extends ControllerError {
  readonly permanent = false;
  constructor(requested: string, current: string) {
    super(`Too large resource version: ${requested}, current: ${current}`, 'Timeout');
  }
}

/**
 * resourceVersion on a list: unset or "0" serve the current state; "N" with resourceVersionMatch=Exact must be the
 * current revision (older ones are compacted for a store without MVCC reads: 410); any N beyond the current revision
 * is the apiserver's "Too large resource version" (504, clients retry).
 */
function checkListVersion(ctx: ResourceContext, current: string): void {
  const q = ctx.req.query;
  const rv = q.get('resourceVersion');
  const match = q.get('resourceVersionMatch');
  if (match && !['Exact', 'NotOlderThan'].includes(match)) {
    throw new BadRequestError(
      `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`,
    );
  }
  if (!rv || rv === '0') return;
  if (!/^\d+$/.test(rv)) throw new BadRequestError(`resourceVersion: Invalid value: "${rv}": must be an integer`);
  if (BigInt(rv) > BigInt(current)) throw new TooLargeResourceVersionError(rv, current);
  if (match === 'Exact' && rv !== current) throw new GoneError(`too old resource version: ${rv} (${current})`);
}

export async function listObjects(ctx: ResourceContext): Promise<ApiResponse> {
  const { info, namespace } = ctx.route;
  const q = ctx.req.query;
  const sel = selectorsOf(ctx);
  const limit = intParam(q, 'limit');
  const token = decodeContinue(q.get('continue'));
  const { items, resourceVersion } = await ctx.backend.list(info, namespace);
  if (!token) checkListVersion(ctx, resourceVersion);
  const keyed = items.filter((o) => matches(sel, o, info.kind)).map((o) => ({ k: keyOf(o), o }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const selected = keyed.map((x) => x.o);
  const rv = token?.rv ?? resourceVersion;
  const page = paginate(selected, rv, limit, token);
  const meta: Record<string, unknown> = { resourceVersion: rv };
  if (page.continue) meta.continue = page.continue;
  if (page.continue && sel.labels.length === 0 && sel.fields.length === 0) meta.remainingItemCount = page.remaining;
  return renderList(ctx, info, page.items, meta);
}

/** POST (create), PUT (update, also of /status), DELETE of one object and of a collection. */
import { apiVersionOf, type ApiObject, type DeleteOptions } from '../../api/backend.js';
import { BadRequestError, NotFoundError } from '../../errors.js';
import { jsonResponse, type ApiResponse } from '../http/types.js';
import { checkObject, checkTypes, readDocument } from './body.js';
import type { ResourceContext } from './context.js';
import { dryRunOf, warningHeaders, writeOptions } from './query.js';
import { matches, selectorsOf } from './read.js';
import { renderObject } from './render.js';

export async function createObject(ctx: ResourceContext): Promise<ApiResponse> {
  const { info, namespace } = ctx.route;
  const obj = await checkTypes(checkObject(await readDocument(ctx.req), info, namespace), info);
  ctx.objectName = obj.metadata.name ?? obj.metadata.generateName;
  const res = await ctx.backend.create(info, namespace, obj, writeOptions(ctx.req.query, ctx.user));
  return renderObject(ctx, res.object, 201, warningHeaders(res.warnings));
}

export async function updateObject(ctx: ResourceContext): Promise<ApiResponse> {
  const { info, namespace, name, subresource } = ctx.route;
  const obj = await checkTypes(checkObject(await readDocument(ctx.req), info, namespace, name), info);
  const opts = { ...writeOptions(ctx.req.query, ctx.user), ...(subresource ? { subresource: 'status' as const } : {}) };
  const res = await ctx.backend.update(info, namespace, name!, obj, opts);
  return renderObject(ctx, res.object, 200, warningHeaders(res.warnings));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** DeleteOptions from the body (kubectl sends one) and the query string. */
async function deleteOptions(ctx: ResourceContext): Promise<DeleteOptions> {
  const doc = await readDocument(ctx.req);
  if (doc !== undefined && !isRecord(doc)) throw new BadRequestError('the body of the request must be DeleteOptions');
  const body = doc ?? {};
  const policy = body.propagationPolicy ?? ctx.req.query.get('propagationPolicy');
  if (policy != null && !['Orphan', 'Background', 'Foreground'].includes(String(policy))) {
    throw new BadRequestError(
      `propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  const opts: DeleteOptions = { ...writeOptions(ctx.req.query, ctx.user) };
  if (dryRunOf(new URLSearchParams(), body.dryRun)) opts.dryRun = true;
  const pre = body.preconditions;
  if (isRecord(pre)) {
    opts.preconditions = {};
    if (typeof pre.uid === 'string') opts.preconditions.uid = pre.uid;
    if (typeof pre.resourceVersion === 'string') opts.preconditions.resourceVersion = pre.resourceVersion;
  }
  return opts;
}

export async function deleteObject(ctx: ResourceContext): Promise<ApiResponse> {
  const { info, namespace, name } = ctx.route;
  const res = await ctx.backend.delete(info, namespace, name!, await deleteOptions(ctx));
  // 202 when deletion waits for finalizers, as for namespaces and graceful pod deletion upstream.
  return renderObject(ctx, res.object, res.pending ? 202 : 200);
}

export async function deleteCollection(ctx: ResourceContext): Promise<ApiResponse> {
  const { info, namespace } = ctx.route;
  const opts = await deleteOptions(ctx);
  const sel = selectorsOf(ctx);
  const { items } = await ctx.backend.list(info, namespace);
  const deleted: ApiObject[] = [];
  for (const o of items.filter((x) => matches(sel, x, info.kind))) {
    try {
      deleted.push((await ctx.backend.delete(info, o.metadata?.namespace, o.metadata!.name!, opts)).object);
    } catch (err) {
      // Deleted by someone else meanwhile: that is what deletecollection wanted.
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  return jsonResponse(200, { kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata: {}, items: deleted });
}

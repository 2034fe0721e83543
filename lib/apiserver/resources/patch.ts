/**
 * PATCH: read the current object, apply the patch document (JSON patch, JSON merge patch or strategic merge patch),
 * and write the result as an update guarded by the revision that was read. A conflict with a concurrent writer
 * re-reads and re-applies (the apiserver's GuaranteedUpdate loop) unless the patch itself set resourceVersion, which
 * makes it the client's precondition. Server-side apply (application/apply-patch+yaml) is refused with 415: it needs
 * managedFields tracking this server does not keep; `kubectl apply` (client-side) covers the same manifests.
 */
import type { ApiObject } from '../../api/backend.js';
import { BadRequestError, ConflictError, UnsupportedMediaTypeError } from '../../errors.js';
import type { ApiResponse } from '../http/types.js';
import { definitionOf } from '../openapi/paths.js';
import { loadSchemas } from '../openapi/schemas.js';
import { applyJsonPatch } from '../patch/json-patch.js';
import { isRecord, mergePatch } from '../patch/merge.js';
import { SchemaNode } from '../patch/schema.js';
import { strategicMerge } from '../patch/strategic.js';
import { checkObject, checkTypes, readText } from './body.js';
import type { ResourceContext } from './context.js';
import { warningHeaders, writeOptions } from './query.js';
import { renderObject } from './render.js';

const MAX_ATTEMPTS = 5;

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;
type PatchType = (typeof PATCH_TYPES)[number];

function patchTypeOf(ctx: ResourceContext): PatchType {
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if ((PATCH_TYPES as readonly string[]).includes(type)) return type as PatchType;
  const ssa =
    type === 'application/apply-patch+yaml'
      ? ' (server-side apply is not supported by this server: use kubectl apply without --server-side)'
      : '';
  throw new UnsupportedMediaTypeError(
    `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}${ssa}`,
  );
}

async function applyPatch(ctx: ResourceContext, type: PatchType, current: ApiObject, patch: unknown): Promise<unknown> {
  if (type === 'application/json-patch+json') return applyJsonPatch(current, patch);
  if (!isRecord(patch)) throw new BadRequestError('the patch must be a JSON object');
  if (type === 'application/merge-patch+json') return mergePatch(current, patch);
  const node = SchemaNode.of(await loadSchemas(), definitionOf(ctx.route.info));
  return strategicMerge(current as unknown as Record<string, unknown>, patch, node);
}

function parsePatch(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`error decoding patch: ${(err as Error).message}`);
  }
}

export async function patchObject(ctx: ResourceContext): Promise<ApiResponse> {
  const { info, namespace, name, subresource } = ctx.route;
  const type = patchTypeOf(ctx);
  const patch = parsePatch(await readText(ctx.req));
  const opts = { ...writeOptions(ctx.req.query, ctx.user), ...(subresource ? { subresource: 'status' as const } : {}) };
  for (let attempt = 1; ; attempt++) {
    const current = await ctx.backend.get(info, namespace, name!);
    const patched = await checkTypes(
      checkObject(await applyPatch(ctx, type, current, patch), info, namespace, name),
      info,
    );
    const currentRv = current.metadata?.resourceVersion;
    const userPrecondition = patched.metadata?.resourceVersion !== currentRv;
    if (!patched.metadata?.resourceVersion) patched.metadata.resourceVersion = currentRv;
    try {
      const res = await ctx.backend.update(info, namespace, name!, patched, opts);
      return renderObject(ctx, res.object, 200, warningHeaders(res.warnings));
    } catch (err) {
      if (!(err instanceof ConflictError) || userPrecondition || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

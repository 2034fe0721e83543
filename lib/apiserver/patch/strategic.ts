/**
 * Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch), the patch kubectl apply/patch/edit/label
 * send: maps merge, lists follow the field's patch strategy (merge by patchMergeKey — Service ports by port, Pod
 * containers and env by name, ... — or replace), plus the directives kubectl emits: `$patch: replace|delete|merge`,
 * `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
 */
import { BadRequestError } from '../../errors.js';
import { isRecord } from './merge.js';
import type { FieldMeta, SchemaNode } from './schema.js';

type Obj = Record<string, unknown>;
type List = unknown[];

const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';
const isDirectiveKey = (k: string): boolean =>
  k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE) || k === '$patch' || k === '$retainKeys';

function listArg(patch: Obj, key: string): List | undefined {
  const v = patch[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new BadRequestError(`invalid patch: ${key} must be a list`);
  return v;
}

export function strategicMerge(original: Obj, patch: Obj, node: SchemaNode | undefined): Obj {
  const directive = patch.$patch;
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return {};
  if (directive !== undefined && directive !== 'merge') {
    throw new BadRequestError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const result: Obj = { ...original };
  const listFields = new Set<string>();
  for (const [key, pv] of Object.entries(patch)) {
    if (isDirectiveKey(key)) {
      if (key.startsWith(SET_ORDER)) listFields.add(key.slice(SET_ORDER.length));
      if (key.startsWith(DELETE_PRIMITIVE)) listFields.add(key.slice(DELETE_PRIMITIVE.length));
      continue;
    }
    const child = node?.child(key);
    if (pv === null) delete result[key];
    else if (isRecord(pv)) {
      if (pv.$patch === 'delete') delete result[key];
      else result[key] = strategicMerge(isRecord(result[key]) ? (result[key] as Obj) : {}, pv, child?.node);
    } else if (Array.isArray(pv)) {
      result[key] = mergeList(result[key], pv, patch, key, child?.meta, child?.node?.items());
      listFields.delete(key);
    } else {
      result[key] = pv;
    }
  }
  for (const key of listFields) {
    if (!Array.isArray(result[key])) continue;
    result[key] = mergeList(result[key], [], patch, key, node?.child(key).meta, node?.child(key).node?.items());
  }
  return retainKeys(result, patch);
}

function retainKeys(result: Obj, patch: Obj): Obj {
  const keep = listArg(patch, '$retainKeys');
  if (!keep) return result;
  return Object.fromEntries(Object.entries(result).filter(([k]) => keep.includes(k)));
}

function stripDirectives(patch: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(patch)) {
    if (isDirectiveKey(k) || v === null) continue;
    out[k] = isRecord(v) ? stripDirectives(v) : structuredClone(v);
  }
  return out;
}

function mergeList(
  orig: unknown,
  patchList: List,
  parent: Obj,
  key: string,
  meta?: FieldMeta,
  items?: SchemaNode,
): List {
  const order = listArg(parent, SET_ORDER + key);
  const remove = listArg(parent, DELETE_PRIMITIVE + key);
  const base = Array.isArray(orig) ? orig : [];
  if (!meta?.strategies.includes('merge')) {
    return patchList.filter((x) => !(isRecord(x) && x.$patch)).map((x) => (isRecord(x) ? stripDirectives(x) : x));
  }
  if (patchList.some((x) => isRecord(x) && x.$patch === 'replace')) {
    return patchList
      .filter((x) => !(isRecord(x) && x.$patch === 'replace'))
      .map((x) => (isRecord(x) ? stripDirectives(x) : x));
  }
  if (!meta.mergeKey) {
    if (patchList.some((x) => isRecord(x) || Array.isArray(x))) {
      throw new BadRequestError(`invalid patch: ${key} is a list of primitives but the patch holds objects`);
    }
    const merged = [...base, ...patchList.filter((x) => !base.includes(x))].filter((x) => !remove?.includes(x));
    const unique = merged.filter((x, i) => merged.indexOf(x) === i);
    return order ? reorder(unique, order, base, (x) => x) : unique;
  }
  const merged = mergeByKey(base, patchList, meta.mergeKey, items);
  const mk = meta.mergeKey;
  return order ? reorder(merged, order, base, (x) => (isRecord(x) ? x[mk] : undefined)) : merged;
}

function mergeByKey(base: List, patchList: List, mergeKey: string, items: SchemaNode | undefined): List {
  const result = base.map((x) => x);
  for (const pi of patchList) {
    if (!isRecord(pi))
      throw new BadRequestError(`invalid patch: list items must be objects with the merge key "${mergeKey}"`);
    const k = pi[mergeKey];
    if (k === undefined) {
      throw new BadRequestError(`map: ${JSON.stringify(pi)} does not contain declared merge key: ${mergeKey}`);
    }
    const idx = result.findIndex((o) => isRecord(o) && o[mergeKey] === k);
    if (pi.$patch === 'delete') {
      if (idx >= 0) result.splice(idx, 1);
      continue;
    }
    if (idx >= 0) result[idx] = strategicMerge(result[idx] as Obj, pi, items);
    else result.push(strategicMerge({}, pi, items));
  }
  return result;
}

/**
 * `$setElementOrder`: items named in the order list take that order; the others (present only on the server) keep
 * their relative order and are interleaved by their position in the original list, as upstream's
 * normalizeElementOrder does.
 */
function reorder(merged: List, order: List, original: List, keyOf: (x: unknown) => unknown): List {
  const orderKeys = order.map((o) => (isRecord(o) ? Object.values(o)[0] : o));
  const rank = (x: unknown) => orderKeys.indexOf(keyOf(x));
  const serverIdx = (x: unknown) => original.findIndex((o) => keyOf(o) === keyOf(x));
  const inPatch = merged.filter((x) => rank(x) >= 0).sort((a, b) => rank(a) - rank(b));
  const serverOnly = merged.filter((x) => rank(x) < 0).sort((a, b) => serverIdx(a) - serverIdx(b));
  const out: List = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < inPatch.length) {
    if (j >= inPatch.length) out.push(serverOnly[i++]);
    else if (i >= serverOnly.length) out.push(inPatch[j++]);
    else {
      const li = serverIdx(serverOnly[i]);
      const ri = serverIdx(inPatch[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]);
      else out.push(inPatch[j++]);
    }
  }
  return out;
}

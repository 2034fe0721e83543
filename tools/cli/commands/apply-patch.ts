/**
 * Client-side apply as kubectl computes it (k8s.io/kubectl/pkg/cmd/apply, k8s.io/apimachinery strategicpatch):
 * - the object is stored with `kubectl.kubernetes.io/last-applied-configuration` = its own JSON as Go's encoder
 *   writes it (keys sorted, `<>&` escaped, a trailing newline), so kubectl and svcctl can apply the same objects
 *   in turn and agree on what changed;
 * - an update is the three-way strategic merge patch CreateThreeWayMergePatch makes: additions and changes from
 *   current -> modified (server-set fields left alone), deletions from last-applied -> modified (fields and list
 *   items the manifest no longer has), lists merged by their patch merge key with `$setElementOrder`, primitive
 *   merge lists with `$deleteFromPrimitiveList`. An empty patch means "unchanged": nothing is sent.
 */
import type { SchemaNode, FieldMeta } from '../../../lib/apiserver/patch/schema.js';

type Obj = Record<string, unknown>;

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const isRecord = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isRecord(a) || !isRecord(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
}

/** Go's json.Marshal of a map: sorted keys, compact, HTML-unsafe characters escaped. */
export function goJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${goJson(k)}:${goJson(v[k])}`).join(',')}}`;
  }
  return (JSON.stringify(v) ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The object with its last-applied annotation set from itself (GetModifiedConfiguration with annotate=true). */
export function withLastApplied(obj: Obj): Obj {
  const meta = { ...((obj.metadata as Obj | undefined) ?? {}) };
  const annotations = { ...((meta.annotations as Record<string, string> | undefined) ?? {}) };
  delete annotations[LAST_APPLIED];
  // kubectl serialises the annotations it read back, an empty map when the manifest had none.
  const bare = { ...obj, metadata: { ...meta, annotations } };
  const text = goJson(bare) + '\n';
  return { ...bare, metadata: { ...meta, annotations: { ...annotations, [LAST_APPLIED]: text } } };
}

/** The last-applied configuration stored on the live object, or undefined when it has none. */
export function lastAppliedOf(current: Obj): Obj | undefined {
  const text = ((current.metadata as Obj | undefined)?.annotations as Record<string, string> | undefined)?.[
    LAST_APPLIED
  ];
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

interface DiffOptions {
  ignoreDeletions: boolean;
  ignoreChangesAndAdditions: boolean;
}

const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

function diffKeyedList(
  key: string,
  o: unknown[],
  m: unknown[],
  mk: string,
  items: SchemaNode | undefined,
  opts: DiffOptions,
): Obj {
  const out: unknown[] = [];
  const find = (list: unknown[], k: unknown) => list.find((x) => isRecord(x) && x[mk] === k) as Obj | undefined;
  for (const mi of m as Obj[]) {
    const oi = find(o, mi[mk]);
    if (!oi) {
      if (!opts.ignoreChangesAndAdditions) out.push(mi);
      continue;
    }
    const sub = diffMaps(oi, mi, items, opts);
    if (Object.keys(sub).length) out.push({ [mk]: mi[mk], ...sub });
  }
  if (!opts.ignoreDeletions)
    for (const oi of o as Obj[]) if (!find(m, oi[mk])) out.push({ [mk]: oi[mk], $patch: 'delete' });
  return out.length ? { [key]: out, [SET_ORDER + key]: (m as Obj[]).map((x) => ({ [mk]: x[mk] })) } : {};
}

function diffPrimitiveList(key: string, o: unknown[], m: unknown[], opts: DiffOptions): Obj {
  const added = opts.ignoreChangesAndAdditions ? [] : m.filter((x) => !o.includes(x));
  const removed = opts.ignoreDeletions ? [] : o.filter((x) => !m.includes(x));
  const out: Obj = {};
  if (added.length) out[key] = added;
  if (removed.length) out[DELETE_PRIMITIVE + key] = removed;
  if (added.length || removed.length) out[SET_ORDER + key] = m;
  return out;
}

function diffLists(
  key: string,
  o: unknown[],
  m: unknown[],
  meta: FieldMeta | undefined,
  items: SchemaNode | undefined,
  opts: DiffOptions,
): Obj {
  if (!meta?.strategies.includes('merge')) {
    return !opts.ignoreChangesAndAdditions && !deepEqual(o, m) ? { [key]: m } : {};
  }
  if (meta.mergeKey && [...o, ...m].every(isRecord)) return diffKeyedList(key, o, m, meta.mergeKey, items, opts);
  return diffPrimitiveList(key, o, m, opts);
}

function diffMaps(original: Obj, modified: Obj, node: SchemaNode | undefined, opts: DiffOptions): Obj {
  const patch: Obj = {};
  if (!opts.ignoreDeletions) for (const k of Object.keys(original)) if (!(k in modified)) patch[k] = null;
  for (const [k, mv] of Object.entries(modified)) {
    const ov = original[k];
    if (!(k in original)) {
      if (!opts.ignoreChangesAndAdditions) patch[k] = mv;
    } else if (deepEqual(ov, mv)) continue;
    else if (isRecord(ov) && isRecord(mv)) {
      const sub = diffMaps(ov, mv, node?.child(k).node, opts);
      if (Object.keys(sub).length) patch[k] = sub;
    } else if (Array.isArray(ov) && Array.isArray(mv)) {
      const child = node?.child(k);
      Object.assign(patch, diffLists(k, ov, mv, child?.meta, child?.node?.items(), opts));
    } else if (!opts.ignoreChangesAndAdditions) patch[k] = mv;
  }
  return patch;
}

/** Both halves of the patch together; keyed list entries for the same item merge. */
function mergePatches(a: Obj, b: Obj, node: SchemaNode | undefined): Obj {
  const out: Obj = { ...a };
  for (const [k, bv] of Object.entries(b)) {
    const av = out[k];
    if (isRecord(av) && isRecord(bv)) out[k] = mergePatches(av, bv, node?.child(k).node);
    else if (Array.isArray(av) && Array.isArray(bv) && !k.startsWith(SET_ORDER)) {
      const child = node?.child(k);
      const mk = child?.meta.mergeKey;
      const merged = [...av];
      for (const item of bv) {
        const i = mk && isRecord(item) ? merged.findIndex((x) => isRecord(x) && x[mk] === item[mk]) : -1;
        if (i >= 0) merged[i] = mergePatches(merged[i] as Obj, item as Obj, child?.node?.items());
        else merged.push(item);
      }
      out[k] = merged;
    } else out[k] = bv;
  }
  return out;
}

/** The strategic merge patch `kubectl apply` sends for `modified` over `current`; {} when nothing changed. */
export function threeWayPatch(original: Obj, modified: Obj, current: Obj, node: SchemaNode | undefined): Obj {
  const delta = diffMaps(current, modified, node, { ignoreDeletions: true, ignoreChangesAndAdditions: false });
  const deletions = diffMaps(original, modified, node, { ignoreDeletions: false, ignoreChangesAndAdditions: true });
  return mergePatches(deletions, delta, node);
}

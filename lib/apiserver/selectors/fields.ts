/**
 * Field selectors (`?fieldSelector=`), as k8s.io/apimachinery/pkg/fields parses them: comma-separated terms
 * `key=value`, `key==value` or `key!=value`, with `\,` `\=` `\\` escapes. Every kind supports metadata.name and
 * metadata.namespace; the other fields are each registry's selectable fields (pkg/registry/core/*\/strategy.go),
 * e.g. events' involvedObject.* that `kubectl describe` uses. An unsupported field is a 400, worded as upstream.
 */
import type { ApiObject } from '../../api/backend.js';
import { BadRequestError } from '../../errors.js';

export interface FieldTerm {
  field: string;
  value: string;
  negate: boolean;
}

export type FieldSelector = FieldTerm[];

type Extract = (o: Record<string, unknown>) => string | undefined;

const path =
  (...keys: string[]): Extract =>
  (o) => {
    let cur: unknown = o;
    for (const k of keys) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
    return cur === undefined || cur === null ? '' : String(cur);
  };

/** Booleans select as "true"/"false"; unset is false. */
const bool =
  (...keys: string[]): Extract =>
  (o) =>
    path(...keys)(o) === 'true' ? 'true' : 'false';

const firstPodIP: Extract = (o) => {
  const ips = (o.status as { podIPs?: { ip?: string }[]; podIP?: string } | undefined) ?? {};
  return ips.podIPs?.[0]?.ip ?? ips.podIP ?? '';
};

/** Selectable fields beyond metadata.name / metadata.namespace, per Kind. */
const FIELDS: Record<string, Record<string, Extract>> = {
  Pod: {
    'spec.nodeName': path('spec', 'nodeName'),
    'spec.restartPolicy': path('spec', 'restartPolicy'),
    'spec.schedulerName': path('spec', 'schedulerName'),
    'spec.serviceAccountName': path('spec', 'serviceAccountName'),
    'spec.hostNetwork': bool('spec', 'hostNetwork'),
    'status.phase': path('status', 'phase'),
    'status.podIP': firstPodIP,
    'status.nominatedNodeName': path('status', 'nominatedNodeName'),
  },
  Service: {
    'spec.clusterIP': path('spec', 'clusterIP'),
    'spec.type': path('spec', 'type'),
  },
  Event: {
    'involvedObject.kind': path('involvedObject', 'kind'),
    'involvedObject.namespace': path('involvedObject', 'namespace'),
    'involvedObject.name': path('involvedObject', 'name'),
    'involvedObject.uid': path('involvedObject', 'uid'),
    'involvedObject.apiVersion': path('involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': path('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': path('involvedObject', 'fieldPath'),
    reason: path('reason'),
    reportingComponent: path('reportingComponent'),
    source: path('source', 'component'),
    type: path('type'),
  },
  Node: { 'spec.unschedulable': bool('spec', 'unschedulable') },
  Namespace: { 'status.phase': path('status', 'phase') },
};

const COMMON: Record<string, Extract> = {
  'metadata.name': path('metadata', 'name'),
  'metadata.namespace': path('metadata', 'namespace'),
};

/** Splits on `sep` where it is not escaped by a backslash. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[i + 1];
    if (n !== '\\' && n !== ',' && n !== '=')
      throw new BadRequestError(`invalid field selector: invalid escape sequence`);
    out += n;
    i++;
  }
  return out;
}

/** The first unescaped `!=`, `==` or `=` splits a term into field and value. */
function parseTerm(term: string): FieldTerm {
  for (let i = 0; i < term.length; i++) {
    const c = term[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    const op = term.startsWith('!=', i) ? '!=' : term.startsWith('==', i) ? '==' : c === '=' ? '=' : undefined;
    if (!op) continue;
    return { field: unescape(term.slice(0, i)), value: unescape(term.slice(i + op.length)), negate: op === '!=' };
  }
  throw new BadRequestError(`invalid selector: '${term}'; can't understand '${term}'`);
}

export function parseFieldSelector(s: string | null | undefined, kind: string): FieldSelector {
  if (!s || s.trim() === '') return [];
  const terms = splitUnescaped(s, ',')
    .filter((t) => t !== '')
    .map(parseTerm);
  for (const t of terms) {
    if (!(t.field in COMMON) && !(t.field in (FIELDS[kind] ?? {}))) {
      throw new BadRequestError(`field label not supported: ${t.field}`);
    }
  }
  return terms;
}

export function matchesFields(sel: FieldSelector, obj: ApiObject, kind: string): boolean {
  const o = obj as unknown as Record<string, unknown>;
  return sel.every((t) => {
    const extract = COMMON[t.field] ?? FIELDS[kind]?.[t.field];
    const v = extract ? (extract(o) ?? '') : '';
    return t.negate ? v !== t.value : v === t.value;
  });
}

/** `metadata.name=<x>` terms fix the name: a watch on one object (`kubectl get svc x -w`) uses this. */
export function selectedName(sel: FieldSelector): string | undefined {
  return sel.find((t) => t.field === 'metadata.name' && !t.negate)?.value;
}

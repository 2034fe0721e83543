/**
 * What kube-apiserver's typed JSON decoding refuses before anything else runs: a value of the wrong JSON type for
 * its field (`"spec": "x"`, `"port": "80"` where an integer is declared, `"port": 80.5` for an int32), a malformed
 * timestamp. Upstream answers 400 `<Kind> in version "<v>" cannot be handled as a <Kind>: json: cannot unmarshal
 * ...`; this finds the same problems from the schemas, so the backend only ever sees well-typed objects. `null`
 * means "unset", as in Go. Unknown fields are fieldValidation's business (./unknown-fields.ts).
 */
import type { SchemaNode } from '../patch/schema.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function scalarProblem(s: Record<string, unknown>, v: unknown): string | undefined {
  const oneOf = s.oneOf as Record<string, unknown>[] | undefined;
  if (oneOf) {
    if (oneOf.some((alt) => scalarProblem(alt, v) === undefined)) return undefined;
    return `expected ${oneOf.map((alt) => String(alt.type)).join(' or ')}, got ${jsonType(v)}`;
  }
  if (s['x-kubernetes-int-or-string']) {
    return typeof v === 'string' || Number.isInteger(v) ? undefined : `expected integer or string, got ${jsonType(v)}`;
  }
  switch (s.type) {
    case 'string':
      if (typeof v !== 'string') return `expected string, got ${jsonType(v)}`;
      if (s.format === 'date-time' && Number.isNaN(Date.parse(v))) return `invalid timestamp ${JSON.stringify(v)}`;
      return undefined;
    case 'integer':
      return Number.isSafeInteger(v) ? undefined : `expected integer, got ${jsonType(v)}`;
    case 'number':
      return typeof v === 'number' ? undefined : `expected number, got ${jsonType(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `expected boolean, got ${jsonType(v)}`;
    default:
      return undefined;
  }
}

function walk(node: SchemaNode | undefined, v: unknown, path: string): string | undefined {
  if (!node || v === null || v === undefined) return undefined;
  const s = node.schema;
  if (s['x-kubernetes-preserve-unknown-fields']) return undefined;
  if (s.type === 'array') {
    if (!Array.isArray(v)) return `${path}: expected array, got ${jsonType(v)}`;
    const items = node.items();
    for (let i = 0; i < v.length; i++) {
      const p = walk(items, v[i], `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (s.type === 'object') {
    if (!isRecord(v)) return `${path || '<root>'}: expected object, got ${jsonType(v)}`;
    for (const [k, child] of Object.entries(v)) {
      if (!node.knows(k)) continue;
      const p = walk(node.child(k).node, child, path ? `${path}.${k}` : k);
      if (p) return p;
    }
    return undefined;
  }
  const problem = scalarProblem(s, v);
  return problem && `${path}: ${problem}`;
}

/** The first type problem in `obj`, as "<field path>: <what is wrong>", or undefined. */
export function typeProblem(root: SchemaNode | undefined, obj: unknown): string | undefined {
  return walk(root, obj, '');
}

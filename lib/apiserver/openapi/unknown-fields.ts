/**
 * Fields an object carries that its schema does not declare, with the paths the apiserver's strict decoder reports
 * (`unknown field "spec.ports[0].prot"`). fieldValidation=Strict turns them into a 400, Warn into warnings.
 * Pure: the caller passes the schemas (./schemas.ts loads them).
 */
import { SchemaNode } from '../patch/schema.js';
import type { Schema } from './schemas.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(node: SchemaNode | undefined, value: unknown, path: string, out: string[]): void {
  if (!node) return;
  if (Array.isArray(value)) {
    const items = node.items();
    value.forEach((v, i) => walk(items, v, `${path}[${i}]`, out));
    return;
  }
  if (!isRecord(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    if (!node.knows(k)) out.push(p);
    else walk(node.child(k).node, v, p, out);
  }
}

export function unknownFields(schemas: Record<string, Schema>, definition: string, obj: unknown): string[] {
  const out: string[] = [];
  walk(SchemaNode.of(schemas, definition), obj, '', out);
  return out;
}

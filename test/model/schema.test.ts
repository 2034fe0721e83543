/**
 * The hand-written schema (lib/model/schema.ts) against the Kubernetes OpenAPI as @kubernetes/client-node generated
 * it: every field named here exists in the model with the same JSON type, and a closed object lists every field of
 * its model, so strict decoding never refuses a valid field and never lets an unknown one through.
 */
import { describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { KIND_SCHEMAS, type ObjectSchema, type Schema } from '../../lib/model/schema.js';

interface Attribute {
  baseName: string;
  type: string;
  format: string;
}

const attributesOf = (model: string): Attribute[] => {
  const cls = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] }>)[model];
  if (!cls?.getAttributeTypeMap) throw new Error(`no model ${model} in @kubernetes/client-node`);
  return cls.getAttributeTypeMap();
};

/** The client-node type string a schema corresponds to. */
function expectedType(s: Schema): { type: string; format?: string }[] {
  if (typeof s === 'string') {
    switch (s) {
      case 'string':
        return [{ type: 'string' }];
      case 'boolean':
        return [{ type: 'boolean' }];
      case 'int32':
      case 'int64':
        return [{ type: 'number', format: s }];
      case 'int-or-string':
        return [{ type: 'IntOrString' }];
      case 'date-time':
        return [{ type: 'Date' }, { type: 'V1MicroTime' }];
      case 'quantity':
        // client-node types resource.Quantity as a string; the API also takes a number.
        return [{ type: 'string' }];
      case 'json':
        return [{ type: 'any' }];
    }
  }
  if ('array' in s) return expectedType(s.array).map((t) => ({ type: `Array<${t.type}>`, format: t.format }));
  if ('map' in s) return expectedType(s.map).map((t) => ({ type: `{ [key: string]: ${t.type}; }` }));
  return [{ type: s.model }];
}

/** Every object schema reachable from the kinds, once each, with the path it was first met at. */
function objectSchemas(): [string, ObjectSchema][] {
  const out = new Map<ObjectSchema, string>();
  const walk = (s: Schema, path: string) => {
    if (typeof s === 'string') return;
    if ('array' in s) return walk(s.array, `${path}[]`);
    if ('map' in s) return walk(s.map, `${path}{}`);
    if (out.has(s)) return;
    out.set(s, path);
    for (const [k, f] of Object.entries(s.fields)) walk(f, `${path}.${k}`);
  };
  for (const k of KIND_SCHEMAS) walk(k.schema, k.kind);
  return [...out].map(([s, p]) => [p, s]);
}

describe('lib/model/schema.ts matches the Kubernetes OpenAPI (client-node models)', () => {
  it.each(objectSchemas().map(([path, s]) => [`${path} (${s.model})`, s] as const))('%s', (_name, s) => {
    const attrs = attributesOf(s.model);
    const byName = new Map(attrs.map((a) => [a.baseName, a]));
    for (const [field, schema] of Object.entries(s.fields)) {
      const a = byName.get(field);
      expect(a, `${s.model}.${field} exists`).toBeDefined();
      const options = expectedType(schema);
      expect(
        options.some((o) => o.type === a!.type && (o.format === undefined || o.format === a!.format)),
        `${s.model}.${field}: schema ${JSON.stringify(options)} vs model ${a!.type} ${a!.format}`,
      ).toBe(true);
    }
    if (!s.open) {
      // A closed object must know every field, or strict decoding would refuse a valid one.
      expect(Object.keys(s.fields).sort()).toEqual(attrs.map((a) => a.baseName).sort());
    }
  });

  it('every kind carries apiVersion, kind and metadata', () => {
    for (const k of KIND_SCHEMAS) {
      expect(Object.keys(k.schema.fields).slice(0, 3)).toEqual(['apiVersion', 'kind', 'metadata']);
    }
    expect(KIND_SCHEMAS.map((k) => `${k.apiVersion}/${k.kind}`)).toEqual([
      'v1/Service',
      'v1/Pod',
      'v1/Endpoints',
      'discovery.k8s.io/v1/EndpointSlice',
      'v1/Namespace',
      'v1/Event',
      'v1/Node',
    ]);
  });
});

/**
 * Generates lib/apiserver/openapi/schemas.json: the OpenAPI v3 component schemas of every kind the API serves, derived
 * from @kubernetes/client-node's generated models (each class's static attributeTypeMap is the upstream OpenAPI spec
 * as code; the .d.ts tells required from optional fields), with upstream definition names
 * (io.k8s.api.core.v1.Service, io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta, ...), the patch tags of
 * ./patch-tags.ts and x-kubernetes-group-version-kind on top-level kinds. The output is committed, so nothing on a
 * request path imports @kubernetes/client-node.
 *
 *   npx tsx scripts/openapi/generate.ts          (rewrites the file)
 *   npx tsx scripts/openapi/generate.ts --check  (fails when the committed file is stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { PATCH_TAGS, type FieldTags } from './patch-tags.js';

type Schema = Record<string, unknown>;
interface Attr {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

const OUT = 'lib/apiserver/openapi/schemas.json';
const MODELS = join(dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')), 'gen', 'models');
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const CORE = 'io.k8s.api.core.v1.';
const DISCOVERY = 'io.k8s.api.discovery.v1.';
const INTSTR = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Served kinds: [class, definition, group, version, kind]. */
const ROOTS: [string, string, string, string, string][] = [
  ['V1Namespace', `${CORE}Namespace`, '', 'v1', 'Namespace'],
  ['V1Service', `${CORE}Service`, '', 'v1', 'Service'],
  ['V1Pod', `${CORE}Pod`, '', 'v1', 'Pod'],
  ['V1Endpoints', `${CORE}Endpoints`, '', 'v1', 'Endpoints'],
  ['V1Node', `${CORE}Node`, '', 'v1', 'Node'],
  ['CoreV1Event', `${CORE}Event`, '', 'v1', 'Event'],
  ['V1EndpointSlice', `${DISCOVERY}EndpointSlice`, 'discovery.k8s.io', 'v1', 'EndpointSlice'],
];
/** Meta kinds every group/version serves (x-kubernetes-group-version-kind lists them per version upstream). */
const META_ROOTS: [string, string][] = [
  ['V1Status', 'Status'],
  ['V1DeleteOptions', 'DeleteOptions'],
  ['V1WatchEvent', 'WatchEvent'],
];
/** client-node classes that live in apimachinery meta/v1 (the class name does not say). */
const META_CLASSES = new Set([
  'V1ObjectMeta',
  'V1ListMeta',
  'V1OwnerReference',
  'V1ManagedFieldsEntry',
  'V1Status',
  'V1StatusDetails',
  'V1StatusCause',
  'V1DeleteOptions',
  'V1Preconditions',
  'V1LabelSelector',
  'V1LabelSelectorRequirement',
  'V1Condition',
  'V1WatchEvent',
]);
/** Core classes referenced from other packages. */
const CORE_CLASSES = new Set(['V1ObjectReference']);
/**
 * The protobuf field tables (lib/apiserver/protobuf/messages.json, from upstream generated.proto) name the Go type
 * behind fields the client-node models flatten: resource.Quantity (a string there) and metav1.MicroTime (a Date).
 */
const PROTO = JSON.parse(readFileSync('lib/apiserver/protobuf/messages.json', 'utf8')) as Record<
  string,
  Record<string, string[]>
>;
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

function protoType(def: string, field: string): string | undefined {
  const fields = PROTO[def.replace(/^io\.k8s\./, 'k8s.io.')];
  const f = fields && Object.values(fields).find((x) => x[0] === field);
  if (!f) return undefined;
  return f[1] === 'map' ? f[3] : f[1];
}
const fromProto = (t: string | undefined): string | undefined => t?.replace(/^k8s\.io\./, 'io.k8s.');
/** `any` fields and what upstream types them as. */
const ANY_REFS: Record<string, string> = {
  fieldsV1: `${META}FieldsV1`,
  object: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
};

const BUILTIN: Record<string, Schema> = {
  [`${META}Time`]: { type: 'string', format: 'date-time', description: 'RFC 3339 date and time.' },
  [`${META}MicroTime`]: { type: 'string', format: 'date-time', description: 'RFC 3339 date and time, microseconds.' },
  [`${META}FieldsV1`]: { type: 'object', description: 'FieldsV1 stores a set of fields in a JSON-like trie.' },
  [`${META}Patch`]: { type: 'object', description: 'The body of a PATCH request.' },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  [INTSTR]: { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true },
  // Decoded from a JSON string or number ("1", 1, "500m", "1Gi").
  [QUANTITY]: { oneOf: [{ type: 'string' }, { type: 'number' }], description: 'A fixed-point number: 1, 500m, 1Gi.' },
};

function defName(cls: string, referrerPkg: string): string {
  if (META_CLASSES.has(cls)) return META + cls.replace(/^V1/, '');
  if (CORE_CLASSES.has(cls)) return CORE + cls.replace(/^V1/, '');
  if (cls.startsWith('CoreV1')) return CORE + cls.slice('CoreV1'.length);
  if (cls.startsWith('DiscoveryV1')) return DISCOVERY + cls.slice('DiscoveryV1'.length);
  return referrerPkg + cls.replace(/^V1/, '');
}

const pkgOf = (def: string): string => def.slice(0, def.lastIndexOf('.') + 1);
const ref = (def: string): Schema => ({ $ref: `#/components/schemas/${def}` });

interface ClassDoc {
  required: string[];
  /** Upstream field documentation (what `kubectl explain` prints), by JSON name; '' is the type's own. */
  descriptions: Map<string, string>;
}

const docText = (block: string): string =>
  block
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\\(['"])/g, '$1');

function classDoc(cls: string): ClassDoc {
  const dts = readFileSync(join(MODELS, `${cls}.d.ts`), 'utf8');
  const required = [...dts.matchAll(/^\s+'([^']+)': /gm)].map((m) => m[1]!);
  const descriptions = new Map<string, string>();
  for (const m of dts.matchAll(/\/\*\*\n((?:\s*\*(?!\/).*\n)*?)\s*\*\/\n\s*(?:'([^']+)'\??:|export declare class)/g)) {
    descriptions.set(m[2] ?? '', docText(m[1]!));
  }
  return { required, descriptions };
}

class Generator {
  readonly defs: Record<string, Schema> = { ...BUILTIN };
  private readonly queue: [string, string][] = [];

  add(cls: string, def: string): void {
    if (this.defs[def]) return;
    this.defs[def] = {};
    this.queue.push([cls, def]);
  }

  run(): void {
    while (this.queue.length > 0) {
      const [cls, def] = this.queue.shift()!;
      this.defs[def] = this.objectSchema(cls, def);
    }
  }

  private typeSchema(type: string, format: string, field: string, pkg: string, proto?: string): Schema {
    if (proto === QUANTITY && (type === 'string' || type === '{ [key: string]: string; }')) {
      return type === 'string'
        ? { allOf: [ref(QUANTITY)] }
        : { type: 'object', additionalProperties: { allOf: [ref(QUANTITY)] } };
    }
    const arr = /^Array<(.+)>$/.exec(type);
    if (arr) return { type: 'array', items: this.itemSchema(arr[1]!, format, field, pkg) };
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) return { type: 'object', additionalProperties: this.itemSchema(map[1]!, format, field, pkg) };
    if (type === 'string') return format ? { type: 'string', format } : { type: 'string' };
    if (type === 'boolean') return { type: 'boolean' };
    if (type === 'number') {
      if (format === 'int32' || format === 'int64') return { type: 'integer', format };
      return format ? { type: 'number', format } : { type: 'number' };
    }
    if (type === 'Date') return { allOf: [ref(proto === `${META}MicroTime` ? proto : `${META}Time`)] };
    if (type === 'V1MicroTime') return { allOf: [ref(`${META}MicroTime`)] };
    if (type === 'IntOrString') return { allOf: [ref(INTSTR)] };
    if (type === 'any') return ANY_REFS[field] ? { allOf: [ref(ANY_REFS[field]!)] } : { type: 'object' };
    const def = defName(type, pkg);
    this.add(type, def);
    return { allOf: [ref(def)], default: {} };
  }

  /** Array items and map values: upstream spells primitive items with a zero default. */
  private itemSchema(type: string, format: string, field: string, pkg: string): Schema {
    const s = this.typeSchema(type, format, field, pkg);
    if (s.type === 'string') return { ...s, default: '' };
    return s;
  }

  private objectSchema(cls: string, def: string): Schema {
    const model = (k8s as unknown as Record<string, { attributeTypeMap?: Attr[] }>)[cls];
    if (!model?.attributeTypeMap) throw new Error(`no model class ${cls}`);
    const tags = PATCH_TAGS[def.replace(/^io\.k8s\./, '')] ?? {};
    const doc = classDoc(cls);
    const properties: Record<string, Schema> = {};
    for (const a of [...model.attributeTypeMap].sort((x, y) => x.baseName.localeCompare(y.baseName))) {
      const proto = fromProto(protoType(def, a.baseName));
      const s = this.typeSchema(a.type, a.format, a.baseName, pkgOf(def), proto);
      const description = doc.descriptions.get(a.baseName);
      properties[a.baseName] = withTags(description ? { description, ...s } : s, tags[a.baseName]);
    }
    const schema: Schema = { type: 'object', properties };
    const own = doc.descriptions.get('');
    if (own) schema.description = own;
    const required = doc.required.filter((f) => f in properties);
    if (required.length > 0) schema.required = required;
    return schema;
  }
}

function withTags(s: Schema, t: FieldTags | undefined): Schema {
  if (!t) return s;
  const out: Schema = { ...s };
  if (t.listMapKeys) out['x-kubernetes-list-map-keys'] = t.listMapKeys;
  if (t.listType) out['x-kubernetes-list-type'] = t.listType;
  if (t.mapType) out['x-kubernetes-map-type'] = t.mapType;
  if (t.patchMergeKey) out['x-kubernetes-patch-merge-key'] = t.patchMergeKey;
  if (t.patchStrategy) out['x-kubernetes-patch-strategy'] = t.patchStrategy;
  return out;
}

function generate(): Record<string, Schema> {
  const g = new Generator();
  const gvk = (group: string, version: string, kind: string) => ({ group, version, kind });
  const versions = [...new Set(ROOTS.map(([, , group, version]) => `${group}/${version}`))];
  for (const [cls, def] of [...ROOTS.map(([c, d]) => [c, d] as const)]) {
    g.add(cls, def);
    g.add(`${cls}List`, `${def}List`);
  }
  for (const [cls] of META_ROOTS) g.add(cls, defName(cls, META));
  g.run();
  for (const [, def, group, version, kind] of ROOTS) {
    g.defs[def]!['x-kubernetes-group-version-kind'] = [gvk(group, version, kind)];
    g.defs[`${def}List`]!['x-kubernetes-group-version-kind'] = [gvk(group, version, `${kind}List`)];
  }
  for (const [cls, kind] of META_ROOTS) {
    g.defs[defName(cls, META)]!['x-kubernetes-group-version-kind'] = versions.map((gv) => {
      const [group, version] = gv.split('/');
      return gvk(group!, version!, kind);
    });
  }
  return Object.fromEntries(Object.entries(g.defs).sort(([a], [b]) => a.localeCompare(b)));
}

const text = `${JSON.stringify(generate(), null, 1)}\n`;
if (process.argv.includes('--check')) {
  if (readFileSync(OUT, 'utf8') !== text) {
    console.error(`${OUT} is stale: run npx tsx scripts/openapi/generate.ts`);
    process.exit(1);
  }
  console.log(`${OUT} is up to date`);
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}`);
}

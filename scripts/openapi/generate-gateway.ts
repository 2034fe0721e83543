/**
 * Generates lib/apiserver/openapi/gateway-schemas.json: the OpenAPI v3 component schemas of the Gateway API kinds this API serves
 * (GatewayClass, Gateway, ReferenceGrant, TLSRoute, TCPRoute, UDPRoute and their lists), derived from
 * @kubernetes-models/gateway-api (generated from the Gateway API's Go types and their kubebuilder markers), never
 * written by hand:
 * - the structure from the package's type declarations: field names, JSON types, required fields, string enums and
 *   the upstream field documentation `kubectl explain` prints;
 * - the value constraints from the package's compiled validators (_schemas/*.js, ajv standalone code): pattern,
 *   enum, minimum/maximum, minLength/maxLength, minItems/maxItems, maxProperties, format. Each compiled function
 *   checks one value and calls one function per property, per item or per map value, so the two are walked together.
 * Nested types are inlined, as in a CRD's published schema (metav1.Condition and LabelSelector included); metadata
 * refers to the apimachinery definitions of lib/apiserver/openapi/schemas.json. Definition names follow the
 * apiextensions apiserver (the group reversed: io.k8s.networking.gateway.v1.Gateway). The same schemas without their
 * documentation go to lib/model/gateway/schema.json: the structural schema the write path prunes unknown fields with
 * and validates against (lib/model/gateway/schema.ts), small enough for every bundle that carries the write path.
 *
 * The output is committed, so nothing on a request path reads the package.
 *
 *   npx tsx scripts/openapi/generate-gateway.ts          (rewrites the file)
 *   npx tsx scripts/openapi/generate-gateway.ts --check  (fails when the committed file is stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import ts from 'typescript';

type Schema = Record<string, unknown>;

const OUT = 'lib/apiserver/openapi/gateway-schemas.json';
const STRUCTURAL_OUT = 'lib/model/gateway/schema.json';
const NM = 'node_modules/@kubernetes-models';
const PKG = `${NM}/gateway-api/gateway.networking.k8s.io`;
const VALIDATORS = `${NM}/gateway-api/_schemas`;
const GROUP = 'gateway.networking.k8s.io';
const DEF_PREFIX = 'io.k8s.networking.gateway';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
/** apimachinery types kept as references (validated as metadata, not by the schema). */
const REFERENCED: Record<string, string> = {
  IIoK8sApimachineryPkgApisMetaV1ObjectMeta: `${META}ObjectMeta`,
  IIoK8sApimachineryPkgApisMetaV1ListMeta: `${META}ListMeta`,
};
/** Served kinds: [version, kind]. Keep in step with lib/api/resources.ts. */
const ROOTS: [string, string][] = [
  ['v1', 'GatewayClass'],
  ['v1', 'Gateway'],
  ['v1', 'ReferenceGrant'],
  ['v1', 'TLSRoute'],
  ['v1alpha2', 'TCPRoute'],
  ['v1alpha2', 'UDPRoute'],
];

// ---------------------------------------------------------------------------------------------------------------
// Structure, from the type declarations

interface Decl {
  file: string;
  node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration;
  imports: Map<string, string>;
}

function declOf(file: string): Decl {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const imports = new Map<string, string>();
  let node: Decl['node'] | undefined;
  for (const st of sf.statements) {
    const bindings = ts.isImportDeclaration(st) ? st.importClause?.namedBindings : undefined;
    if (ts.isImportDeclaration(st) && bindings && ts.isNamedImports(bindings)) {
      const from = (st.moduleSpecifier as ts.StringLiteral).text;
      for (const el of bindings.elements) imports.set(el.name.text, from);
    }
    if (!node && (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st))) node = st;
  }
  if (!node) throw new Error(`no declaration in ${file}`);
  return { file, node, imports };
}

/** The JSDoc text of a node (what kubectl explain prints), with the generator's markdown escapes undone. */
function docOf(node: ts.Node): string | undefined {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
  const text = docs
    ?.map((d) => (typeof d.comment === 'string' ? d.comment : ''))
    .join('\n')
    .trim();
  return text ? text.replace(/\\([*_\\])/g, '$1') : undefined;
}

function resolveImport(decl: Decl, name: string): Decl | string {
  if (REFERENCED[name]) return REFERENCED[name]!;
  const from = decl.imports.get(name);
  if (!from) throw new Error(`${decl.file}: unresolved type ${name}`);
  const file = from.startsWith('@kubernetes-models/')
    ? `node_modules/${from}.d.ts`
    : resolve(dirname(decl.file), from.replace(/\.js$/, '.d.ts'));
  return declOf(file);
}

const ref = (def: string): Schema => ({ $ref: `#/components/schemas/${def}` });

function typeSchema(decl: Decl, t: ts.TypeNode, depth: number): Schema {
  if (depth > 60) throw new Error(`${decl.file}: type nests too deep`);
  if (t.kind === ts.SyntaxKind.StringKeyword) return { type: 'string' };
  if (t.kind === ts.SyntaxKind.NumberKeyword) return { type: 'integer' };
  if (t.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'boolean' };
  if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) return { type: 'string' };
  if (ts.isUnionTypeNode(t) && t.types.every((u) => ts.isLiteralTypeNode(u) && ts.isStringLiteral(u.literal))) {
    return { type: 'string', enum: t.types.map((u) => ((u as ts.LiteralTypeNode).literal as ts.StringLiteral).text) };
  }
  if (ts.isTypeLiteralNode(t) && t.members.length === 1 && ts.isIndexSignatureDeclaration(t.members[0]!)) {
    return { type: 'object', additionalProperties: typeSchema(decl, t.members[0].type, depth + 1) };
  }
  if (ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName)) {
    const name = t.typeName.text;
    if (name === 'Array' && t.typeArguments?.length === 1) {
      return { type: 'array', items: typeSchema(decl, t.typeArguments[0]!, depth + 1) };
    }
    const target = resolveImport(decl, name);
    if (typeof target === 'string') return { allOf: [ref(target)] };
    return declSchema(target, depth + 1);
  }
  throw new Error(`${decl.file}: unsupported type ${t.getText()}`);
}

function declSchema(decl: Decl, depth: number): Schema {
  const n = decl.node;
  if (ts.isTypeAliasDeclaration(n)) return typeSchema(decl, n.type, depth);
  const properties: Record<string, Schema> = {};
  const required = new Set<string>();
  for (const e of (n.heritageClauses ?? []).flatMap((h) => [...h.types])) {
    const name = e.expression.getText();
    if (name === 'TypeMeta') continue;
    const parent = resolveImport(decl, name);
    if (typeof parent === 'string') throw new Error(`${decl.file}: extends ${name}`);
    const s = declSchema(parent, depth + 1);
    Object.assign(properties, s.properties);
    for (const r of (s.required as string[] | undefined) ?? []) required.add(r);
  }
  for (const m of n.members) {
    if (!ts.isPropertySignature(m) || !m.type) continue;
    const name = ts.isStringLiteral(m.name) ? m.name.text : m.name.getText();
    const s = typeSchema(decl, m.type, depth);
    const description = docOf(m);
    properties[name] = description ? { description, ...s } : s;
    if (!m.questionToken) required.add(name);
  }
  const schema: Schema = { type: 'object' };
  const own = docOf(n);
  if (own) schema.description = own;
  schema.properties = Object.fromEntries(Object.entries(properties).sort(([a], [b]) => a.localeCompare(b)));
  if (required.size > 0) schema.required = [...required].sort();
  return schema;
}

// ---------------------------------------------------------------------------------------------------------------
// Constraints, from the compiled validators

interface Fn {
  file: string;
  name: string;
}

interface FnInfo {
  keywords: Schema;
  props: Map<string, Fn>;
  items?: Fn;
  values?: Fn;
  /** Validators of the same value (a named type's own function, allOf). */
  same: Fn[];
}

interface Module {
  root: string;
  bodies: Map<string, string>;
  imports: Map<string, string>;
  enums: Map<string, unknown[]>;
}

const modules = new Map<string, Module>();

function moduleOf(file: string): Module {
  const cached = modules.get(file);
  if (cached) return cached;
  const code = readFileSync(file, 'utf8');
  const root = /export const validate=(validate\d+)/.exec(code)?.[1];
  if (!root) throw new Error(`${file}: no root validator`);
  const bodies = new Map<string, string>();
  const parts = code.split(/(?=function validate\d+\(data,)/);
  for (const part of parts.slice(1)) bodies.set(/^function (validate\d+)/.exec(part)![1]!, part);
  const imports = new Map<string, string>();
  for (const m of code.matchAll(/import\{validate as (validate\d+)\}from"([^"]+)"/g)) {
    const from = m[2]!;
    const path = from.startsWith('@kubernetes-models/')
      ? `node_modules/${from.replace('/_schemas/', '/_schemas/')}.js`
      : resolve(dirname(file), from);
    imports.set(m[1]!, path);
  }
  const enums = new Map<string, unknown[]>();
  for (const m of code.matchAll(/let (schema\d+_enum)=(\[[^\]]*\])/g)) enums.set(m[1]!, JSON.parse(m[2]!) as unknown[]);
  const mod = { root, bodies, imports, enums };
  modules.set(file, mod);
  return mod;
}

const fnRef = (file: string, name: string, mod: Module): Fn =>
  mod.imports.has(name)
    ? { file: mod.imports.get(name)!, name: moduleOf(mod.imports.get(name)!).root }
    : { file, name };

function keywordsOf(body: string, mod: Module): Schema {
  const out: Schema = {};
  for (const m of body.matchAll(/keyword:"(\w+)",params:\{(\w+):("(?:[^"\\]|\\.)*"|[\w.+-]+)/g)) {
    const [, keyword, param, raw] = m as unknown as [string, string, string, string];
    const value = raw.startsWith('"') ? (JSON.parse(raw) as unknown) : raw;
    if (keyword === 'required' || keyword === 'type') continue;
    if (keyword === 'enum') out.enum = mod.enums.get(String(value));
    else if (param === 'limit') out[keyword] = Number(value);
    else if (keyword === 'minimum' || keyword === 'maximum') {
      const limit = /limit:([\d.e+-]+)/.exec(body.slice(m.index))?.[1];
      out[keyword] = Number(limit);
    } else out[keyword] = value;
  }
  return out;
}

function fnInfo(fn: Fn): FnInfo {
  const mod = moduleOf(fn.file);
  const body = mod.bodies.get(fn.name);
  if (body === undefined) throw new Error(`${fn.file}: no function ${fn.name}`);
  const info: FnInfo = { keywords: keywordsOf(body, mod), props: new Map(), same: [] };
  for (const m of body.matchAll(/(validate\d+)\(data(\.(\w+)|\[i\d+\]|\[key\d+\])?,\{instancePath/g)) {
    const target = fnRef(fn.file, m[1]!, mod);
    if (m[3]) info.props.set(m[3], target);
    else if (m[2]?.startsWith('[i')) info.items = target;
    else if (m[2]?.startsWith('[key')) info.values = target;
    else if (m[1] !== fn.name) info.same.push(target);
  }
  return info;
}

/** Everything the validators of one value check, following same-value calls. */
function merged(fns: Fn[]): FnInfo {
  const out: FnInfo = { keywords: {}, props: new Map(), same: [] };
  const seen = new Set<string>();
  const stack = [...fns];
  while (stack.length > 0) {
    const fn = stack.pop()!;
    const key = `${fn.file}#${fn.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const info = fnInfo(fn);
    Object.assign(out.keywords, info.keywords);
    for (const [k, v] of info.props) out.props.set(k, v);
    out.items ??= info.items;
    out.values ??= info.values;
    stack.push(...info.same);
  }
  return out;
}

const CONSTRAINTS = ['enum', 'format', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength'];
const LIST_CONSTRAINTS = ['minItems', 'maxItems', 'minProperties', 'maxProperties'];

/** Lays the validators' constraints over a structural schema (in place), and checks both agree on the shape. */
function constrain(s: Schema, fns: Fn[], path: string): void {
  if (s.allOf) return;
  const info = merged(fns);
  for (const k of [...CONSTRAINTS, ...LIST_CONSTRAINTS]) if (info.keywords[k] !== undefined) s[k] = info.keywords[k];
  const props = s.properties as Record<string, Schema> | undefined;
  for (const [name, prop] of Object.entries(props ?? {})) {
    // A field without a validator has no constraint beyond its type (e.g. GatewayClass spec.description).
    const fn = info.props.get(name);
    if (fn) constrain(prop, [fn], `${path}.${name}`);
  }
  if (s.items) {
    if (info.items) constrain(s.items as Schema, [info.items], `${path}[]`);
  }
  if (s.additionalProperties && info.values) constrain(s.additionalProperties as Schema, [info.values], `${path}{}`);
}

// ---------------------------------------------------------------------------------------------------------------

const definition = (version: string, kind: string): string => `${DEF_PREFIX}.${version}.${kind}`;

function kindSchema(version: string, kind: string): Schema {
  const schema = declSchema(declOf(join(PKG, version, `${kind}.d.ts`)), 0);
  const file = resolve(VALIDATORS, `IoK8sSigsGatewayApiApis${version[0]!.toUpperCase()}${version.slice(1)}${kind}.js`);
  constrain(schema, [{ file, name: moduleOf(file).root }], kind);
  return schema;
}

function generate(): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const [version, kind] of ROOTS) {
    const def = definition(version, kind);
    out[def] = { ...kindSchema(version, kind), 'x-kubernetes-group-version-kind': [{ group: GROUP, version, kind }] };
    const list = declSchema(declOf(join(PKG, version, `${kind}List.d.ts`)), 0);
    const props = list.properties as Record<string, Schema>;
    props.items = { ...props.items, type: 'array', items: ref(def) };
    out[`${def}List`] = {
      ...list,
      'x-kubernetes-group-version-kind': [{ group: GROUP, version, kind: `${kind}List` }],
    };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** The kinds' schemas without documentation or list definitions: what validation and pruning read. */
function structural(defs: Record<string, Schema>): Record<string, Schema> {
  const DROP = new Set(['description', 'x-kubernetes-group-version-kind']);
  // `properties` maps field names (a field may be called "description") to schemas.
  const strip = (v: unknown, fields = false): unknown => {
    if (Array.isArray(v)) return v.map((x) => strip(x));
    if (typeof v !== 'object' || v === null) return v;
    const entries = Object.entries(v).filter(([k]) => fields || !DROP.has(k));
    return Object.fromEntries(entries.map(([k, x]) => [k, strip(x, !fields && k === 'properties')]));
  };
  const out: Record<string, Schema> = {};
  for (const [version, kind] of ROOTS)
    out[`${GROUP}/${version}/${kind}`] = strip(defs[definition(version, kind)]) as Schema;
  return out;
}

const defs = generate();
const outputs: [string, unknown][] = [
  [OUT, defs],
  [STRUCTURAL_OUT, structural(defs)],
];
for (const [file, value] of outputs) {
  // Formatted as the repository's Prettier formats JSON, so `prettier --check .` passes on the output.
  const options = { ...(await resolveConfig(file)), parser: 'json', filepath: file };
  const text = await format(JSON.stringify(value), options);
  if (process.argv.includes('--check')) {
    if (readFileSync(file, 'utf8') !== text) {
      console.error(`${file} is stale: run npx tsx scripts/openapi/generate-gateway.ts`);
      process.exit(1);
    }
    console.log(`${file} is up to date`);
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${file} (${text.length} bytes)`);
  }
}

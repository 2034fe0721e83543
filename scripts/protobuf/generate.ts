/**
 * Generates lib/apiserver/protobuf/messages.json: the protobuf field tables (field number -> JSON name and type) of
 * the kinds this API accepts as request bodies, read from the upstream generated.proto files. Go clients built on
 * client-go — kubectl's typed commands (`kubectl create service|namespace`, `kubectl expose`) included — send built-in
 * kinds as application/vnd.kubernetes.protobuf, so the server must decode them.
 *
 *   npx tsx scripts/protobuf/generate.ts <dir with the .proto files>
 *
 * where the directory holds k8s.io/api core/v1 and discovery/v1 generated.proto and k8s.io/apimachinery's
 * pkg/apis/meta/v1, pkg/util/intstr, pkg/api/resource and pkg/runtime generated.proto (any file names). Field numbers
 * never change across Kubernetes versions (protobuf compatibility), so the committed output stays valid.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'lib/apiserver/protobuf/messages.json';
const ROOTS = [
  'k8s.io.api.core.v1.Service',
  'k8s.io.api.core.v1.Pod',
  'k8s.io.api.core.v1.Endpoints',
  'k8s.io.api.core.v1.Node',
  'k8s.io.api.core.v1.Namespace',
  'k8s.io.api.core.v1.Event',
  'k8s.io.api.discovery.v1.EndpointSlice',
  'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  'k8s.io.apimachinery.pkg.runtime.Unknown',
];
const SCALARS = new Set(['string', 'bool', 'int32', 'int64', 'bytes', 'double', 'float']);

/** [jsonName, type, repeated?] or [jsonName, 'map', keyType, valueType]. */
type Field = [string, string, 1?] | [string, 'map', string, string];

function parseProto(text: string): Map<string, Record<number, Field>> {
  const src = text.replace(/\/\/.*$/gm, '');
  const pkg = /^package ([\w.]+);/m.exec(src)?.[1] ?? '';
  const qualify = (t: string) => (SCALARS.has(t) ? t : t.startsWith('.') ? t.slice(1) : `${pkg}.${t}`);
  const out = new Map<string, Record<number, Field>>();
  for (const m of src.matchAll(/^message (\w+) \{([\s\S]*?)^\}/gm)) {
    const fields: Record<number, Field> = {};
    for (const f of m[2]!.matchAll(/^\s*(optional |repeated )?([\w.]+|map<[\w.]+, ?[\w.]+>) (\w+) = (\d+);/gm)) {
      const [, label, type, name, num] = f;
      const map = /^map<([\w.]+), ?([\w.]+)>$/.exec(type!);
      if (map) fields[Number(num)] = [name!, 'map', qualify(map[1]!), qualify(map[2]!)];
      else fields[Number(num)] = label === 'repeated ' ? [name!, qualify(type!), 1] : [name!, qualify(type!)];
    }
    out.set(`${pkg}.${m[1]}`, fields);
  }
  return out;
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npx tsx scripts/protobuf/generate.ts <dir with generated.proto files>');
  process.exit(2);
}
const all = new Map<string, Record<number, Field>>();
for (const f of readdirSync(dir).filter((x) => x.endsWith('.proto'))) {
  for (const [k, v] of parseProto(readFileSync(join(dir, f), 'utf8'))) all.set(k, v);
}
const result: Record<string, Record<number, Field>> = {};
const stack = [...ROOTS];
while (stack.length > 0) {
  const name = stack.pop()!;
  if (result[name] || SCALARS.has(name)) continue;
  const fields = all.get(name);
  if (!fields) throw new Error(`message ${name} not found`);
  result[name] = fields;
  for (const f of Object.values(fields)) stack.push(...(f[1] === 'map' ? [f[2] as string, f[3] as string] : [f[1]]));
}
const sorted = Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(OUT, `${JSON.stringify(sorted)}\n`);
console.log(`wrote ${OUT}: ${Object.keys(sorted).length} messages`);

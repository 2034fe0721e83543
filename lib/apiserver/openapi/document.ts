/**
 * /openapi/v3 (the index: one entry per group/version with a content-hashed URL, which kubectl caches by hash) and
 * /openapi/v3/<api/v1 | apis/group/version> (paths + the component schemas they reach). The schemas are loaded on the
 * first OpenAPI request only: they are ~100 KB of JSON that `kubectl get` never needs.
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, type ResourceInfo } from '../../api/backend.js';
import { SERVER_VERSION } from '../discovery.js';
import { definitionOf, resourcePaths } from './paths.js';
import { loadSchemas } from './schemas.js';

type Schema = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
/** Meta definitions every group/version document carries (operations reference them). */
const COMMON = [`${META}Status`, `${META}DeleteOptions`, `${META}Patch`, `${META}WatchEvent`];

/** Every definition reachable through $ref from `roots`. */
export function reachable(schemas: Record<string, Schema>, roots: string[]): string[] {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const def = stack.pop()!;
    if (seen.has(def) || !schemas[def]) continue;
    seen.add(def);
    for (const m of JSON.stringify(schemas[def]).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) stack.push(m[1]!);
  }
  return [...seen].sort();
}

interface GvDoc {
  text: string;
  hash: string;
}

const gvPath = (r: Pick<ResourceInfo, 'group' | 'version'>): string =>
  r.group === '' ? 'api/v1' : `apis/${apiVersionOf(r)}`;

export class OpenApiV3 {
  private docs?: Promise<Map<string, GvDoc>>;

  constructor(private readonly resources: readonly ResourceInfo[]) {}

  private build(): Promise<Map<string, GvDoc>> {
    this.docs ??= loadSchemas().then((schemas) => {
      const byGv = new Map<string, ResourceInfo[]>();
      for (const r of this.resources) byGv.set(gvPath(r), [...(byGv.get(gvPath(r)) ?? []), r]);
      const out = new Map<string, GvDoc>();
      for (const [path, rs] of byGv) {
        const roots = [...COMMON, ...rs.flatMap((r) => [definitionOf(r), `${definitionOf(r)}List`])];
        const components = Object.fromEntries(reachable(schemas, roots).map((d) => [d, schemas[d]]));
        const doc = {
          openapi: '3.0.0',
          info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
          paths: Object.assign({}, ...rs.map(resourcePaths)),
          components: { schemas: components },
        };
        const text = JSON.stringify(doc);
        out.set(path, { text, hash: createHash('sha512').update(text).digest('hex').slice(0, 128).toUpperCase() });
      }
      return out;
    });
    return this.docs;
  }

  async index(): Promise<Record<string, unknown>> {
    const docs = await this.build();
    const paths = Object.fromEntries(
      [...docs].map(([p, d]) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` }]),
    );
    return { paths };
  }

  /** The document for `api/v1` or `apis/<group>/<version>`, or undefined. */
  async document(path: string): Promise<GvDoc | undefined> {
    return (await this.build()).get(path);
  }
}

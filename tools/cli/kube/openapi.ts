/**
 * The server's OpenAPI v3 schemas, read as kubectl reads them for `apply`: the /openapi/v3 index names each
 * group/version's document by a content-hashed URL, which is cached on disk under that hash
 * ($SVCCTL_HOME/cache/openapi), so the document itself is downloaded once per server version. The schemas give the
 * patch merge keys and strategies of every field (lib/apiserver/patch/schema.ts reads them the same way).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { SchemaNode } from '../../../lib/apiserver/patch/schema.js';
import { svcctlHome } from '../../local/state.js';
import type { KubeClient } from './client.js';
import type { ResourceInfo } from './resources.js';

type Schemas = Record<string, Record<string, unknown>>;

function cacheFile(url: string): string {
  const dir = join(svcctlHome(), 'cache', 'openapi');
  mkdirSync(dir, { recursive: true });
  return join(dir, createHash('sha256').update(url).digest('hex').slice(0, 32) + '.json');
}

const loaded = new Map<string, Promise<Schemas>>();

function schemasOf(client: KubeClient, gv: string): Promise<Schemas> {
  const key = `${client.config.server} ${gv}`;
  let p = loaded.get(key);
  if (!p) loaded.set(key, (p = fetchSchemas(client, gv)));
  return p;
}

async function fetchSchemas(client: KubeClient, gv: string): Promise<Schemas> {
  const index = await client.call<{ paths?: Record<string, { serverRelativeURL?: string }> }>('GET', '/openapi/v3');
  const url = index.paths?.[gv]?.serverRelativeURL;
  if (!url) return {};
  const file = cacheFile(`${client.config.server}${url}`);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    const [path, query] = url.split('?');
    const res = await client.request('GET', path!, { query: Object.fromEntries(new URLSearchParams(query ?? '')) });
    if (res.status !== 200) return {};
    text = res.text;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
  return ((JSON.parse(text) as { components?: { schemas?: Schemas } }).components?.schemas ?? {}) as Schemas;
}

/** The schema node of a kind's objects, or undefined when the server does not describe it. */
export async function kindSchema(client: KubeClient, r: ResourceInfo): Promise<SchemaNode | undefined> {
  const gv = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
  const schemas = await schemasOf(client, gv);
  const def = Object.entries(schemas).find(([, s]) =>
    (
      (s['x-kubernetes-group-version-kind'] as { group?: string; version?: string; kind?: string }[] | undefined) ?? []
    ).some((g) => (g.group ?? '') === r.group && g.version === r.version && g.kind === r.kind),
  );
  return def ? SchemaNode.of(schemas, def[0]) : undefined;
}

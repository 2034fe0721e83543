/**
 * `svcctl get TYPE [NAME...] [-n NS | -A] [-l SEL] [--field-selector SEL] [-o wide|yaml|json|name] [--show-labels]`:
 * kubectl get. The human-readable form is the server's Table (kubectl's Accept header, 500 rows per page, following
 * `continue`), printed as kubectl prints it; json/yaml/name read the objects. `get nodes` adds a DATAPLANE column:
 * the reason of each Node's DataPlaneReady condition.
 */
import { NODE_DATA_PLANE_READY } from '../../../lib/model/node-object.js';
import type { KubeClient } from '../kube/client.js';
import { StatusError } from '../kube/client.js';
import { formatErrors } from '../kube/errors.js';
import { collectionPath, objectPath, resourceFor, type ResourceInfo } from '../kube/resources.js';
import { UsageError, type Io } from '../io.js';
import { checkOutput, listOf, printNames, printObjects, type Output } from './output.js';
import { printTable, rowCount, type Table, type TableRow } from './table.js';

export interface GetFlags {
  namespace?: string;
  'all-namespaces'?: boolean;
  output?: string;
  selector?: string;
  'field-selector'?: string;
  'show-labels'?: boolean;
}

/** What kubectl 1.32 sends for human-readable output (Table v1, then v1beta1, then plain JSON). */
export const TABLE_ACCEPT =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const CHUNK = '500';

interface Target {
  r: ResourceInfo;
  names: string[];
  namespace?: string;
}

/** `TYPE [NAME...]` or `TYPE/NAME`. */
function target(args: string[], flags: GetFlags, client: KubeClient): Target {
  const [first, ...rest] = args;
  if (!first)
    throw new UsageError(
      'You must specify the type of resource to get. Use "svcctl api-resources" for a complete list of supported resources.',
    );
  const [type, slashName] = first.split('/');
  const r = resourceFor(type ?? '');
  const names = slashName ? [slashName, ...rest] : rest;
  const all = Boolean(flags['all-namespaces']) && names.length === 0;
  return { r, names, namespace: !r.namespaced || all ? undefined : (flags.namespace ?? client.namespace) };
}

async function listPages(client: KubeClient, t: Target, flags: GetFlags, accept: string): Promise<Table[]> {
  const pages: Table[] = [];
  let cont: string | undefined;
  do {
    const page = await client.call<Table>('GET', collectionPath(t.r, t.namespace), {
      accept,
      query: {
        labelSelector: flags.selector,
        fieldSelector: flags['field-selector'],
        limit: CHUNK,
        continue: cont,
        includeObject: t.r.kind === 'Node' ? 'Object' : undefined,
      },
    });
    pages.push(page);
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return pages;
}

/** Named objects one by one; the missing ones are reported after what was found, as kubectl does. */
async function getNamed<T>(client: KubeClient, t: Target, accept: string, errors: unknown[]): Promise<T[]> {
  const out: T[] = [];
  for (const name of t.names) {
    try {
      out.push(
        await client.call<T>('GET', objectPath(t.r, t.namespace, name), {
          accept,
          query: t.r.kind === 'Node' ? { includeObject: 'Object' } : {},
        }),
      );
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      errors.push(err);
    }
  }
  return out;
}

/** DATAPLANE: the reason of the Node's DataPlaneReady condition; `<none>` when it has none (no data plane). */
export function dataPlaneCell(row: TableRow): string {
  const status = row.object?.status as { conditions?: { type?: string; reason?: string }[] } | undefined;
  const c = status?.conditions?.find((x) => x.type === NODE_DATA_PLANE_READY);
  return c?.reason || '<none>';
}

function noResources(t: Target): string {
  return t.namespace !== undefined ? `No resources found in ${t.namespace} namespace.\n` : 'No resources found\n';
}

async function human(
  client: KubeClient,
  t: Target,
  flags: GetFlags,
  output: Output | undefined,
  io: Io,
  errors: unknown[],
) {
  const tables = t.names.length
    ? await getNamed<Table>(client, t, TABLE_ACCEPT, errors)
    : await listPages(client, t, flags, TABLE_ACCEPT);
  if (rowCount(tables) === 0) {
    if (t.names.length === 0) io.stderr(noResources(t));
    return;
  }
  io.stdout(
    printTable(tables, {
      wide: output === 'wide',
      withNamespace: t.r.namespaced && t.namespace === undefined,
      showLabels: flags['show-labels'],
      extra: t.r.kind === 'Node' ? [{ header: 'DATAPLANE', cell: dataPlaneCell }] : [],
    }),
  );
}

async function objects(
  client: KubeClient,
  t: Target,
  flags: GetFlags,
  output: 'json' | 'yaml' | 'name',
  io: Io,
  errors: unknown[],
) {
  let items: Record<string, unknown>[];
  if (t.names.length) items = await getNamed(client, t, 'application/json', errors);
  else {
    const pages = (await listPages(client, t, flags, 'application/json')) as unknown as {
      items?: Record<string, unknown>[];
    }[];
    items = pages.flatMap((p) => p.items ?? []);
  }
  const typed = items.map((o) => ({
    apiVersion: t.r.group ? `${t.r.group}/${t.r.version}` : t.r.version,
    kind: t.r.kind,
    ...o,
  }));
  if (output === 'name') {
    if (typed.length === 0 && t.names.length === 0) io.stderr(noResources(t));
    io.stdout(printNames(t.r, typed as { metadata?: { name?: string } }[]));
    return;
  }
  if (typed.length === 0 && t.names.length > 0) return;
  io.stdout(printObjects(output, t.names.length === 1 ? typed[0] : listOf(typed)));
}

export async function get(client: KubeClient, args: string[], flags: GetFlags, io: Io): Promise<number> {
  const output = checkOutput(flags.output);
  const t = target(args, flags, client);
  const errors: unknown[] = [];
  if (output === undefined || output === 'wide') await human(client, t, flags, output, io, errors);
  else await objects(client, t, flags, output, io, errors);
  if (errors.length) io.stderr(formatErrors(errors));
  return errors.length ? 1 : 0;
}

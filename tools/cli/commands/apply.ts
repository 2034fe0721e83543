/**
 * `svcctl apply -f FILE|DIR|-`: kubectl's client-side apply (create with the last-applied annotation, or the
 * three-way strategic merge patch of ./apply-patch.ts; "unchanged" when the patch is empty), made all-or-nothing
 * for bad input: every object is first sent with dryRun=All (the server defaults, validates, admits and plans
 * allocations without storing), and only when every one of them passes are they written, in file order. kubectl
 * itself applies what it can and reports the rest; svcctl refuses the whole file and changes nothing.
 * An object whose namespace is created by an earlier Namespace of the same apply cannot be dry-run there (the
 * namespace does not exist yet): it is dry-run in `default` instead, which checks the same fields and allocations.
 *
 * Cost, for files of thousands of objects (issue 11): what exists is read with one paged LIST per (resource,
 * namespace) the file names (GETs when it names only a few objects there), not one GET per object; the dry runs
 * and then the writes go IN_FLIGHT at a time. File order is kept where it means something: a write waits for the
 * earlier writes it depends on (see `orderKeys`), and warnings, errors and the `created|configured|unchanged`
 * lines are printed in file order whatever order the answers come back in.
 */
import { apiVersionOf } from '../../../lib/api/backend.js';
import { limiter, settle, type Settled } from '../bounded.js';
import type { KubeClient } from '../kube/client.js';
import { StatusError } from '../kube/client.js';
import { formatErrors, withSource } from '../kube/errors.js';
import { kindSchema } from '../kube/openapi.js';
import { collectionPath, kindName, objectPath, type ResourceInfo } from '../kube/resources.js';
import type { Io } from '../io.js';
import type { ManifestItem } from '../manifests.js';
import { lastAppliedOf, threeWayPatch, withLastApplied } from './apply-patch.js';

type Obj = Record<string, unknown>;
type Action = 'created' | 'configured' | 'unchanged';
/** What the server has for an object: it, nothing (a create), or the error reading it gave. */
type Live = Obj | undefined | StatusError;
type Limit = ReturnType<typeof limiter>;

export interface Planned {
  item: ManifestItem;
  action: Action;
  /** What is sent: the object to create, or the patch. */
  body: Obj;
  /** The object as the dry run says it would be stored (defaults, allocations); the live one when unchanged. */
  preview: Obj;
}

const WRITE_QUERY = { fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' };
const SMP = 'application/strategic-merge-patch+json';
/** Requests in flight at once: enough to hide the round trip, few enough not to swamp one API server. */
const IN_FLIGHT = 16;
/** Up to this many objects of one (resource, namespace) are read with GETs (one round trip); more, with a LIST. */
const GETS_UP_TO = 8;
const PAGE_SIZE = '500';

const isRecord = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

async function getLive(client: KubeClient, item: ManifestItem): Promise<Live> {
  try {
    return await client.call('GET', objectPath(item.r, item.namespace, item.name));
  } catch (err) {
    if (!(err instanceof StatusError)) throw err;
    return err.code === 404 ? undefined : err;
  }
}

/** Every object of a (resource, namespace) by name, page by page; with apiVersion and kind, as a GET returns it. */
async function listLive(client: KubeClient, r: ResourceInfo, namespace?: string): Promise<Map<string, Obj>> {
  const byName = new Map<string, Obj>();
  let token: string | undefined;
  do {
    const page = await client.call<{ items?: Obj[]; metadata?: { continue?: string } }>(
      'GET',
      collectionPath(r, namespace),
      { query: { limit: PAGE_SIZE, continue: token } },
    );
    for (const o of page.items ?? [])
      byName.set(String((o.metadata as Obj).name), { apiVersion: apiVersionOf(r), kind: r.kind, ...o });
    token = page.metadata?.continue || undefined;
  } while (token);
  return byName;
}

/** What is live for each item, in file order. A LIST the server refuses falls back to GETs, which may be allowed. */
async function readLive(client: KubeClient, items: ManifestItem[], limit: Limit): Promise<Live[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    // A nameless object is a create the server refuses with its own message.
    if (!item.name) return;
    const key = `${item.r.group}/${item.r.resource}/${item.namespace ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const live: Live[] = items.map(() => undefined);
  const readGroup = async (indexes: number[]) => {
    const { r, namespace } = items[indexes[0]!]!;
    const listed =
      indexes.length > GETS_UP_TO
        ? await limit(() => listLive(client, r, namespace)).catch((err: unknown) => {
            if (err instanceof StatusError) return undefined;
            throw err;
          })
        : undefined;
    await Promise.all(
      indexes.map(async (i) => {
        live[i] = listed ? listed.get(items[i]!.name) : await limit(() => getLive(client, items[i]!));
      }),
    );
  };
  await Promise.all([...groups.values()].map(readGroup));
  return live;
}

function warnUnannotated(items: ManifestItem[], live: Live[], io: Io): void {
  items.forEach((item, i) => {
    const l = live[i];
    if (l && !(l instanceof StatusError) && !lastAppliedOf(l))
      io.stderr(
        `Warning: resource ${item.r.resource}/${item.name} is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by svcctl apply. The missing annotation will be patched automatically.\n`,
      );
  });
}

/** Per item: whether an earlier Namespace of this apply creates its namespace (it is then dry-run in `default`). */
function inNewNamespace(items: ManifestItem[], live: Live[]): boolean[] {
  const created = new Set<string>();
  return items.map((item, i) => {
    const standIn = item.namespace !== undefined && created.has(item.namespace);
    if (item.r.kind === 'Namespace' && live[i] === undefined) created.add(item.name);
    return standIn;
  });
}

/** Dry-run create; in `default` when the object's namespace is one this apply creates first. */
async function dryRunCreate(client: KubeClient, item: ManifestItem, body: Obj, standIn: boolean): Promise<Obj> {
  const query = { ...WRITE_QUERY, dryRun: 'All' };
  if (!standIn) return client.call('POST', collectionPath(item.r, item.namespace), { body, query });
  const stand = { ...body, metadata: { ...(body.metadata as Obj), namespace: 'default' } };
  try {
    return await client.call('POST', collectionPath(item.r, 'default'), { body: stand, query });
  } catch (err) {
    if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
    return body;
  }
}

async function planOne(client: KubeClient, item: ManifestItem, live: Live, standIn: boolean): Promise<Planned> {
  if (live instanceof StatusError) throw live;
  const modified = withLastApplied(item.object);
  if (!live) {
    try {
      const preview = await dryRunCreate(client, item, modified, standIn);
      return { item, action: 'created', body: modified, preview };
    } catch (err) {
      throw withSource('creating', item.source, err);
    }
  }
  const original = lastAppliedOf(live);
  const patch = threeWayPatch(original ?? {}, modified, live, await kindSchema(client, item.r));
  if (Object.keys(patch).length === 0) return { item, action: 'unchanged', body: patch, preview: live };
  try {
    const preview = await client.call('PATCH', objectPath(item.r, item.namespace, item.name), {
      body: patch,
      contentType: SMP,
      query: { ...WRITE_QUERY, dryRun: 'All' },
    });
    return { item, action: 'configured', body: patch, preview };
  } catch (err) {
    throw withSource('patching', item.source, err);
  }
}

async function write(client: KubeClient, p: Planned): Promise<void> {
  const { r, namespace, name, source } = p.item;
  if (p.action === 'created') {
    try {
      await client.call('POST', collectionPath(r, namespace), { body: p.body, query: WRITE_QUERY });
    } catch (err) {
      throw withSource('creating', source, err);
    }
  } else if (p.action === 'configured') {
    try {
      await client.call('PATCH', objectPath(r, namespace, name), {
        body: p.body,
        contentType: SMP,
        query: WRITE_QUERY,
      });
    } catch (err) {
      throw withSource('patching', source, err);
    }
  }
}

/** Outcomes in file order, the first error that is not the server's thrown where it stands (as a sequential run). */
function byOutcome<T>(outcomes: Settled<T>[]): { values: T[]; errors: StatusError[] } {
  const values: T[] = [];
  const errors: StatusError[] = [];
  for (const o of outcomes) {
    if (o.ok) values.push(o.value);
    else if (o.error instanceof StatusError) errors.push(o.error);
    else throw o.error;
  }
  return { values, errors };
}

/** Every object through a dry run: what an apply would do, and what the server says is wrong, in file order. */
export async function previewItems(
  client: KubeClient,
  items: ManifestItem[],
  io: Io,
): Promise<{ planned: Planned[]; errors: StatusError[] }> {
  const limit = limiter(IN_FLIGHT);
  const live = await readLive(client, items, limit);
  warnUnannotated(items, live, io);
  const standIn = inNewNamespace(items, live);
  const outcomes = await Promise.all(
    items.map((item, i) => settle(limit(() => planOne(client, item, live[i], standIn[i]!)))),
  );
  const { values: planned, errors } = byOutcome(outcomes);
  return { planned, errors };
}

/** A Service's explicitly requested ClusterIPs and NodePorts (the first in file order asking for one gets it). */
function explicitAllocations(o: Obj): string[] {
  const spec = o.kind === 'Service' && isRecord(o.spec) ? o.spec : {};
  const ips = [spec.clusterIP, ...(Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [])];
  const ports = [spec.healthCheckNodePort, ...(Array.isArray(spec.ports) ? spec.ports : []).map((p) => p?.nodePort)];
  return [
    ...ips.filter((ip) => typeof ip === 'string' && ip !== '' && ip !== 'None').map((ip) => `clusterIP ${ip}`),
    ...ports.filter((p) => typeof p === 'number' && p !== 0).map((p) => `nodePort ${p}`),
  ];
}

/**
 * Where file order matters between two writes: the same object twice, the same explicit allocation twice (the
 * earlier one must win, as when written one by one), and a Namespace before the objects in it. `claims`: keys a
 * later write sharing them must wait for; `needs`: keys this write waits for without holding up others.
 */
function orderKeys(item: ManifestItem): { claims: string[]; needs: string[] } {
  const claims = [`object ${item.r.group}/${item.r.resource}/${item.namespace ?? ''}/${item.name}`];
  claims.push(...explicitAllocations(item.object));
  if (item.r.kind === 'Namespace') claims.push(`namespace ${item.name}`);
  return { claims, needs: item.namespace === undefined ? [] : [`namespace ${item.namespace}`] };
}

/**
 * Starts every write, IN_FLIGHT at a time, each once the earlier writes it must follow have ended; after a failure
 * that is not the server's answer (the connection went), no further write starts.
 */
function startWrites(client: KubeClient, planned: Planned[]): Promise<Settled<void>>[] {
  const limit = limiter(IN_FLIGHT);
  const last = new Map<string, Promise<unknown>>();
  let halted: unknown;
  const guarded = async (p: Planned) => {
    if (halted) throw halted;
    await write(client, p).catch((err: unknown) => {
      if (!(err instanceof StatusError)) halted = err;
      throw err;
    });
  };
  return planned.map((p) => {
    const { claims, needs } = orderKeys(p.item);
    const after = [...claims, ...needs].flatMap((k) => last.get(k) ?? []);
    const done = settle(Promise.all(after).then(() => limit(() => guarded(p))));
    for (const k of claims) last.set(k, done);
    return done;
  });
}

/** Applies `items`; prints kubectl's `<kind>/<name> created|configured|unchanged` lines; returns the exit code. */
export async function applyItems(client: KubeClient, items: ManifestItem[], io: Io): Promise<number> {
  if (items.length === 0) {
    io.stderr('error: no objects passed to apply\n');
    return 1;
  }
  const { planned, errors } = await previewItems(client, items, io);
  if (errors.length === 0) {
    // Awaited in file order, so each line is printed as soon as it and every line before it are known.
    for (const [i, done] of startWrites(client, planned).entries()) {
      const outcome = await done;
      const { item, action } = planned[i]!;
      if (outcome.ok) io.stdout(`${kindName(item.r)}/${item.name} ${action}\n`);
      else if (outcome.error instanceof StatusError) errors.push(outcome.error);
      else throw outcome.error;
    }
  }
  if (errors.length) io.stderr(formatErrors(errors));
  return errors.length ? 1 : 0;
}

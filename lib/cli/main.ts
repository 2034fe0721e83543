/** The svcctl command line: argument parsing and the commands, on top of the API write path and the controller. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import type { V1Service } from '@kubernetes/client-node';
import { ControllerError, InvalidError, NotFoundError } from '../errors.js';
import { parseManifests, type KubeObject } from '../model/manifest.js';
import { endpointsForServices } from '../model/endpoints.js';
import type { ServiceEndpoints } from '../model/types.js';
import type { WatchEvent } from '../api/events-types.js';
import { describeService, printEndpoints, printPods, printServices } from './printers.js';
import { readSources } from './files.js';
import { publish, resolveTarget, type Target } from './target.js';
import { reconcileInline } from './inline.js';
import { localCommand } from './local-commands.js';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin?: () => string;
}

export const USAGE = `svcctl controls Kubernetes Services implemented serverlessly on AWS.

Usage:
  svcctl apply -f FILE|DIR|- [-f ...]          create or update Services, Pods and Endpoints
  svcctl get services|pods|endpoints [NAME] [-n NS | -A] [-o wide|yaml|json]
  svcctl describe service NAME [-n NS]
  svcctl delete -f FILE|DIR|-                    delete the objects a manifest names
  svcctl delete service|pod NAME [-n NS]
  svcctl plan -f FILE                            show what would change in AWS for LoadBalancer Services
  svcctl local status|stop                       the local embedded control plane (moto server on loopback)
  svcctl local up [--nodes N] [--exit-after-demo] [--control-plane-only]
                                                 run the whole system locally (what \`npm start\` runs)
  svcctl local node add|remove [INSTANCE-ID]|list

Targets:
  default                 the local embedded control plane, started on first use and reused
  --table T --bus B       a deployed stack (or SVCCTL_TABLE / SVCCTL_EVENT_BUS), with standard AWS credentials
`;

const RESOURCES: Record<string, 'services' | 'pods' | 'endpoints'> = {
  service: 'services',
  services: 'services',
  svc: 'services',
  pod: 'pods',
  pods: 'pods',
  po: 'pods',
  endpoints: 'endpoints',
  ep: 'endpoints',
};

class UsageError extends Error {}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' },
      table: { type: 'string' },
      bus: { type: 'string' },
      cluster: { type: 'string' },
      region: { type: 'string' },
      nodes: { type: 'string' },
      headless: { type: 'boolean' },
      'exit-after-demo': { type: 'boolean' },
      'control-plane-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

type Parsed = ReturnType<typeof parse>;

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\nSee 'svcctl help'.\n`);
    return 2;
  }
  const [cmd, ...rest] = parsed.positionals;
  if (!cmd || cmd === 'help' || parsed.values.help) {
    io.stdout(USAGE);
    return cmd || parsed.values.help ? 0 : 2;
  }
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  try {
    switch (cmd) {
      case 'local':
        return await localCommand(rest, parsed.values, io);
      case 'apply':
        return await apply(parsed, io, progress);
      case 'get':
        return await get(rest, parsed, io, progress);
      case 'describe':
        return await describe(rest, parsed, io, progress);
      case 'delete':
        return await del(rest, parsed, io, progress);
      case 'plan':
        return await plan(parsed, io, progress);
      default:
        throw new UsageError(`unknown command "${cmd}" for "svcctl"`);
    }
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    io.stderr(`error: ${err.message}\nSee 'svcctl help'.\n`);
    return 2;
  }
  if (err instanceof InvalidError) {
    // kubectl: The Service "x" is invalid: ...; one line per invalid object.
    const lines = err.message.split('\n').map((l) => (/^\w+ ".*" is invalid: /.test(l) ? `The ${l}` : l));
    io.stderr(lines.join('\n') + '\n');
    return 1;
  }
  if (err instanceof NotFoundError) {
    io.stderr(`Error from server (NotFound): ${err.message}\n`);
    return 1;
  }
  if (err instanceof ControllerError) {
    io.stderr(`Error from server (${err.reason}): ${err.message}\n`);
    return 1;
  }
  const msg = (err as Error)?.message ?? String(err);
  io.stderr(msg.startsWith('error:') ? `${msg}\n` : `error: ${msg}\n`);
  return 1;
}

function readObjects(parsed: Parsed, io: Io): KubeObject[] {
  const files = parsed.values.filename ?? [];
  if (files.length === 0) throw new UsageError('must specify one of -f and -k');
  const stdin = io.stdin ?? (() => readFileSync(0, 'utf8'));
  const objects: KubeObject[] = [];
  for (const src of readSources(files, stdin)) objects.push(...parseManifests(src.text, src.source));
  const ns = parsed.values.namespace;
  if (ns) {
    for (const o of objects) {
      const meta = (o.metadata ??= {});
      if (meta.namespace && meta.namespace !== ns)
        throw new Error(
          `error: the namespace from the provided object "${meta.namespace}" does not match the namespace "${ns}". You must pass '--namespace=${meta.namespace}' to perform this operation.`,
        );
      meta.namespace = ns;
    }
  }
  return objects;
}

async function afterWrite(target: Target, events: WatchEvent[]): Promise<void> {
  if (events.length === 0) return;
  await publish(target, events);
  if (target.reconcileInline) await reconcileInline(target, events);
}

const lower = (k: string | undefined) => (k ?? 'Service').toLowerCase();

async function apply(parsed: Parsed, io: Io, progress: (m: string) => void): Promise<number> {
  const objects = readObjects(parsed, io);
  if (objects.length === 0) throw new Error('error: no objects passed to apply');
  const target = await resolveTarget(parsed.values, progress);
  const results = await target.api.applyAll(objects);
  for (const r of results) io.stdout(`${lower(r.object.kind)}/${r.object.metadata?.name} ${r.action}\n`);
  await afterWrite(
    target,
    results.flatMap((r) => (r.event ? [r.event] : [])),
  );
  return 0;
}

async function del(rest: string[], parsed: Parsed, io: Io, progress: (m: string) => void): Promise<number> {
  let refs: { kind: string; namespace: string; name: string }[];
  if (parsed.values.filename?.length) {
    refs = readObjects(parsed, io).map((o) => ({
      kind: o.kind,
      namespace: o.metadata?.namespace ?? 'default',
      name: o.metadata?.name ?? '',
    }));
  } else {
    const [res, name] = rest;
    const kind = RESOURCES[res ?? ''];
    if (!kind || !name) throw new UsageError('usage: svcctl delete service|pod NAME [-n NS] or svcctl delete -f FILE');
    refs = [
      {
        kind: kind === 'services' ? 'Service' : kind === 'pods' ? 'Pod' : 'Endpoints',
        namespace: parsed.values.namespace ?? 'default',
        name,
      },
    ];
  }
  const target = await resolveTarget(parsed.values, progress);
  const events: WatchEvent[] = [];
  let failed = 0;
  for (const r of refs) {
    try {
      const ev =
        r.kind === 'Service'
          ? await target.api.deleteService(r.namespace, r.name)
          : r.kind === 'Pod'
            ? await target.api.deletePod(r.namespace, r.name)
            : await target.api.deleteEndpoints(r.namespace, r.name);
      events.push(ev);
      io.stdout(`${lower(r.kind)} "${r.name}" deleted\n`);
    } catch (err) {
      failed++;
      report(err, io);
    }
  }
  await afterWrite(target, events);
  return failed ? 1 : 0;
}

async function endpointsFor(
  target: Target,
  namespace?: string,
): Promise<{ endpoints: ServiceEndpoints; created?: string }[]> {
  const [services, pods, manual] = await Promise.all([
    target.api.listServices(namespace),
    target.api.listPods(namespace),
    target.api.listEndpoints(namespace),
  ]);
  return endpointsForServices(services, pods, manual).map(({ service, endpoints }) => ({
    endpoints,
    created: String(service.metadata?.creationTimestamp ?? ''),
  }));
}

function emit(io: Io, output: string | undefined, items: unknown[], single: boolean, table: () => string) {
  if (output === 'json') {
    io.stdout(JSON.stringify(single ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 4) + '\n');
  } else if (output === 'yaml') {
    io.stdout(toYaml(single ? items[0] : { apiVersion: 'v1', kind: 'List', items }));
  } else if (output === undefined || output === 'wide') {
    io.stdout(table());
  } else {
    throw new UsageError(
      `unable to match a printer suitable for the output format "${output}", allowed formats are: json,wide,yaml`,
    );
  }
}

async function get(rest: string[], parsed: Parsed, io: Io, progress: (m: string) => void): Promise<number> {
  const [res, name] = rest;
  const kind = RESOURCES[res ?? ''];
  if (!kind)
    throw new UsageError(
      res ? `the server doesn't have a resource type "${res}"` : 'You must specify the type of resource to get.',
    );
  const all = Boolean(parsed.values['all-namespaces']);
  const ns = all ? undefined : (parsed.values.namespace ?? 'default');
  const opts = { wide: parsed.values.output === 'wide', allNamespaces: all };
  const target = await resolveTarget(parsed.values, progress);
  if (kind === 'services') {
    let items = name ? [await target.api.getService(ns ?? 'default', name)] : await target.api.listServices(ns);
    items = sortByKey(items);
    if (!name && items.length === 0 && !parsed.values.output) {
      io.stderr(all ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`);
      return 0;
    }
    emit(io, parsed.values.output, items, Boolean(name), () => printServices(items, opts));
  } else if (kind === 'pods') {
    let items = name ? [await target.api.getPod(ns ?? 'default', name)] : await target.api.listPods(ns);
    items = sortByKey(items);
    if (!name && items.length === 0 && !parsed.values.output) {
      io.stderr(all ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`);
      return 0;
    }
    emit(io, parsed.values.output, items, Boolean(name), () => printPods(items, opts));
  } else {
    let list = await endpointsFor(target, ns);
    if (name) {
      list = list.filter((e) => e.endpoints.name === name);
      if (list.length === 0) throw new NotFoundError('Endpoints', name, 'endpoints');
    }
    if (!name && list.length === 0 && !parsed.values.output) {
      io.stderr(all ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`);
      return 0;
    }
    emit(
      io,
      parsed.values.output,
      list.map((l) => l.endpoints),
      Boolean(name),
      () => printEndpoints(list, opts),
    );
  }
  return 0;
}

function sortByKey<T extends { metadata?: { namespace?: string; name?: string } }>(items: T[]): T[] {
  return [...items].sort((a, b) =>
    `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`),
  );
}

function conditionLines(svc: V1Service): string[] {
  return (svc.status?.conditions ?? []).map(
    (c) =>
      `${c.status === 'True' && c.type !== 'LoadBalancerWarning' ? 'Normal ' : 'Warning'}  ${c.reason}  ${c.message}`,
  );
}

async function describe(rest: string[], parsed: Parsed, io: Io, progress: (m: string) => void): Promise<number> {
  const [res, name] = rest;
  if (RESOURCES[res ?? ''] !== 'services' || !name) throw new UsageError('usage: svcctl describe service NAME [-n NS]');
  const ns = parsed.values.namespace ?? 'default';
  const target = await resolveTarget(parsed.values, progress);
  const svc = await target.api.getService(ns, name);
  const eps = (await endpointsFor(target, ns)).find((e) => e.endpoints.name === name)?.endpoints;
  io.stdout(describeService(svc, eps, conditionLines(svc)));
  return 0;
}

async function plan(parsed: Parsed, io: Io, progress: (m: string) => void): Promise<number> {
  const objects = readObjects(parsed, io).filter((o) => o.kind === 'Service') as V1Service[];
  const target = await resolveTarget(parsed.values, progress);
  const { planServices } = await import('./plan.js');
  io.stdout(await planServices(target, objects));
  return 0;
}

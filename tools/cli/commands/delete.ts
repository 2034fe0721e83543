/**
 * `svcctl delete -f FILE|DIR|-` and `svcctl delete TYPE NAME... [-n NS]`: kubectl delete. Prints
 * `<kind> "<name>" deleted` once the server accepted the deletion, then, as kubectl's --wait=true default does,
 * waits until each object is gone (finalizers, e.g. a namespace's, can keep it a while). Missing objects are
 * reported kubectl's way and the others are still deleted.
 */
import type { KubeClient } from '../kube/client.js';
import { StatusError } from '../kube/client.js';
import { formatErrors, withSource } from '../kube/errors.js';
import { objectPath, resourceFor, type ResourceInfo } from '../kube/resources.js';
import { UsageError, type Io } from '../io.js';

export interface DeleteTarget {
  r: ResourceInfo;
  namespace?: string;
  name: string;
  source?: string;
}

export function namedTargets(args: string[], namespace: string): DeleteTarget[] {
  const [type, ...names] = args;
  if (!type) throw new UsageError('You must provide one or more resources by argument or filename.');
  if (type.includes('/')) {
    const [t, n] = type.split('/');
    return [
      { r: resourceFor(t ?? ''), namespace, name: n ?? '' },
      ...names.map((x) => ({ r: resourceFor(t ?? ''), namespace, name: x })),
    ];
  }
  const r = resourceFor(type);
  if (names.length === 0) throw new UsageError(`resource(s) were provided, but no name was specified`);
  return names.map((name) => ({ r, namespace: r.namespaced ? namespace : undefined, name }));
}

async function waitGone(
  client: KubeClient,
  t: DeleteTarget,
  uid: string | undefined,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const o = await client.call<{ metadata?: { uid?: string } }>('GET', objectPath(t.r, t.namespace, t.name));
      if (uid && o.metadata?.uid !== uid) return; // gone, and something new took the name
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) return;
      throw err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for the condition on ${t.r.resource}/${t.name}`);
}

export interface DeleteOptions {
  wait: boolean;
  timeoutMs: number;
}

export async function deleteTargets(
  client: KubeClient,
  targets: DeleteTarget[],
  opts: DeleteOptions,
  io: Io,
): Promise<number> {
  const errors: unknown[] = [];
  const pending: { t: DeleteTarget; uid?: string }[] = [];
  for (const t of targets) {
    try {
      const res = await client.call<{ metadata?: { uid?: string }; kind?: string }>(
        'DELETE',
        objectPath(t.r, t.namespace, t.name),
        {
          body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
        },
      );
      io.stdout(`${t.r.kind.toLowerCase()}${t.r.group ? `.${t.r.group}` : ''} "${t.name}" deleted\n`);
      pending.push({ t, uid: res.kind === 'Status' ? undefined : res.metadata?.uid });
    } catch (err) {
      errors.push(t.source ? withSource('deleting', t.source, err) : err);
    }
  }
  if (opts.wait) for (const p of pending) await waitGone(client, p.t, p.uid, opts.timeoutMs);
  if (errors.length) io.stderr(formatErrors(errors));
  return errors.length ? 1 : 0;
}

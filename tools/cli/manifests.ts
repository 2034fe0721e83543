/**
 * `-f FILE|DIR|-` read as kubectl reads it before any request: files (a directory's .yaml/.yml/.json, sorted),
 * YAML documents at bounded cost, Lists flattened, apiVersion/kind checked and mapped to a resource this API serves,
 * and the namespace settled (the object's, else -n, else the context's; an object in another namespace than -n is an
 * error). The objects are not decoded here: the server decodes them (fieldValidation=Strict) and says what is wrong.
 */
import { readFileSync } from 'node:fs';
import { statusFromError } from '../../lib/apiserver/status.js';
import { decode } from '../../lib/model/decode.js';
import { readManifestObjects } from '../../lib/model/manifest.js';
import { StatusError } from './kube/client.js';
import { withSource } from './kube/errors.js';
import { readSources } from './files.js';
import { resourceForKind, type ResourceInfo } from './kube/resources.js';
import { UsageError, type Io } from './io.js';

export interface ManifestItem {
  object: Record<string, unknown> & { metadata?: { name?: string; namespace?: string } & Record<string, unknown> };
  source: string;
  r: ResourceInfo;
  /** For namespaced kinds: where the object goes. */
  namespace?: string;
  name: string;
}

export function readManifestFiles(
  files: string[] | undefined,
  io: Io,
): { object: Record<string, unknown>; source: string }[] {
  if (!files?.length) throw new UsageError('must specify one of -f and -k');
  const stdin = io.stdin ?? (() => readFileSync(0, 'utf8'));
  return readSources(files, stdin).flatMap((src) =>
    readManifestObjects(src.text, src.source, (v, k) => resourceForKind(v, k) !== undefined).map((object) => ({
      object,
      source: src.source,
    })),
  );
}

/**
 * The server's typed decoding step (lib/model/decode.ts, fieldValidation=Strict), run on every object before any
 * request, so hostile input is refused at bounded cost without reaching the API at all; the errors are the Statuses
 * the server would answer with. kubectl leaves this to the server; the outcome is the same.
 */
export function decodeErrors(objects: { object: Record<string, unknown>; source: string }[]): StatusError[] {
  const errors: StatusError[] = [];
  for (const { object, source } of objects) {
    try {
      decode(object, { strict: true });
    } catch (err) {
      const meta = object.metadata as { name?: unknown } | undefined;
      const name = typeof meta?.name === 'string' ? meta.name : '';
      errors.push(
        withSource('creating', source, new StatusError(statusFromError(err, { kind: String(object.kind), name }))),
      );
    }
  }
  return errors;
}

/** Each object with its resource, name and namespace settled. `flagNs`: -n; `contextNs`: the kubeconfig's. */
export function settle(
  objects: { object: Record<string, unknown>; source: string }[],
  flagNs: string | undefined,
  contextNs: string,
): ManifestItem[] {
  return objects.map(({ object, source }) => {
    const r = resourceForKind(String(object.apiVersion), String(object.kind))!;
    const plainMeta =
      object.metadata === undefined ||
      (typeof object.metadata === 'object' && object.metadata !== null && !Array.isArray(object.metadata));
    const meta = (plainMeta ? (object.metadata ?? {}) : {}) as Record<string, unknown>;
    const own = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : undefined;
    if (r.namespaced && own && flagNs && own !== flagNs)
      throw new Error(
        `error: the namespace from the provided object "${own}" does not match the namespace "${flagNs}". You must pass '--namespace=${own}' to perform this operation.`,
      );
    const namespace = r.namespaced ? (own ?? flagNs ?? contextNs) : undefined;
    // A metadata that is not an object is left for the server to refuse with its own message.
    const withNs = r.namespaced && plainMeta ? { ...object, metadata: { ...meta, namespace } } : object;
    return {
      object: withNs as ManifestItem['object'],
      source,
      r,
      namespace,
      name: typeof meta.name === 'string' ? meta.name : '',
    };
  });
}

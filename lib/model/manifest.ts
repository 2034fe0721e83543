/**
 * Manifest parsing as `kubectl apply -f FILE` does it: multi-document YAML (or JSON) read at bounded cost
 * (lib/model/yaml.ts), `kind: List` (and any `*List` kind with `items`) flattened, empty documents skipped, kubectl's
 * client-side checks (apiVersion/kind present and strings, the kind known to the cluster), then the typed decoding
 * step the apiserver runs on each object (lib/model/decode.ts) with fieldValidation=Strict, kubectl's default: a
 * typo such as `selectr:` is refused instead of silently producing a Service that selects nothing. Errors carry
 * kubectl's and the apiserver's wording, one line each, and are thrown as InvalidError; nothing is returned on error.
 */
import { DecodeError, InvalidError } from '../errors.js';
import { clip } from './field-errors.js';
import { decode, jsonType, typeMetaOf, type EndpointsObject, type PodObject, type ServiceObject } from './decode.js';
import { readYamlDocuments, TooLargeError, YamlError } from './yaml.js';

export type { EndpointsObject, PodObject, ServiceObject } from './decode.js';
/** Objects `svcctl apply` accepts today, discriminated by `kind`. */
export type KubeObject = ServiceObject | PodObject | EndpointsObject;

export const SUPPORTED_KINDS = ['Service', 'Pod', 'Endpoints'] as const;

/** utilerrors.NewAggregate(...).Error(): one message bare, several in brackets. */
const aggregate = (msgs: string[]): string => (msgs.length === 1 ? (msgs[0] as string) : `[${msgs.join(', ')}]`);

function fail(message: string): never {
  throw new InvalidError(message);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => jsonType(v) === 'object';

/** Whether the cluster serves a kind (kubectl asks discovery; here the caller knows its kinds). */
export type KindFilter = (apiVersion: string, kind: string) => boolean;

const SUPPORTED: KindFilter = (apiVersion, kind) =>
  apiVersion === 'v1' && (SUPPORTED_KINDS as readonly string[]).includes(kind);

/**
 * kubectl's client-side steps for one manifest file, before any request: read the YAML documents at bounded cost,
 * flatten Lists, check each object's apiVersion/kind, map the kind (`isKnown`). Returns the objects as read, in file
 * order; throws InvalidError (kubectl's wording) on the first problem. `source` is the file name as the user gave it.
 */
export function readManifestObjects(text: string, source: string, isKnown: KindFilter): Record<string, unknown>[] {
  let values: unknown[];
  try {
    values = readYamlDocuments(text);
  } catch (e) {
    if (e instanceof TooLargeError) {
      // What kubectl prints when the apiserver answers 413 to the object's request.
      throw new InvalidError(`error when creating "${source}": ${e.message}`, [], 'RequestEntityTooLarge');
    }
    const reason = e instanceof YamlError ? e.message : String((e as Error)?.message ?? e);
    fail(`error: error parsing ${source}: error converting YAML to JSON: yaml: ${clip(reason, 512)}`);
  }
  const out: Record<string, unknown>[] = [];
  for (const v of values) flatten(v, source, isKnown, out);
  return out;
}

/**
 * Parses one manifest file into the objects `svcctl apply` used to accept (Services, Pods, Endpoints), each through
 * the apiserver's typed decoding step. `strict` (default): unknown fields are errors, as kubectl's default
 * fieldValidation=Strict; otherwise dropped.
 */
export function parseManifests(text: string, source = '<stdin>', opts: { strict?: boolean } = {}): KubeObject[] {
  return readManifestObjects(text, source, SUPPORTED).map((value) => {
    try {
      return decode(value, { strict: opts.strict ?? true }).object as KubeObject;
    } catch (e) {
      // The apiserver's 400 for a body it cannot decode, as kubectl prints it for the object's request.
      if (e instanceof DecodeError) throw new DecodeError(`error when creating "${source}": ${e.message}`, e.causes);
      throw e;
    }
  });
}

function flatten(value: unknown, source: string, isKnown: KindFilter, out: Record<string, unknown>[]): void {
  if (!isPlainObject(value)) {
    fail(
      `error: error parsing ${source}: json: cannot unmarshal ${jsonType(value)} into Go value of type map[string]interface {}`,
    );
  }
  let meta: { apiVersion?: string; kind?: string };
  try {
    meta = typeMetaOf(value);
  } catch (e) {
    fail(`error: unable to decode "${source}": ${(e as Error).message}`);
  }
  const { apiVersion, kind } = meta;
  const missing = [...(apiVersion ? [] : ['apiVersion not set']), ...(kind ? [] : ['kind not set'])];
  if (!apiVersion || !kind) fail(`error: error validating "${source}": error validating data: ${aggregate(missing)}`);

  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value.items))) {
    const items = value.items ?? [];
    if (!Array.isArray(items)) {
      fail(
        `error: error validating "${source}": error validating data: ValidationError(${clip(kind, 256)}.items): invalid type for ${clip(kind, 256)}.items: got "${jsonType(items)}", expected "array"`,
      );
    }
    for (const item of items) flatten(item, source, isKnown, out);
    return;
  }

  if (!isKnown(apiVersion, kind)) {
    const m = isPlainObject(value.metadata) ? value.metadata : {};
    const name = typeof m.name === 'string' ? m.name : '';
    const namespace = typeof m.namespace === 'string' ? m.namespace : '';
    fail(
      `error: resource mapping not found for name: ${JSON.stringify(clip(name, 256))} namespace: ${JSON.stringify(clip(namespace, 256))} from "${source}": no matches for kind ${JSON.stringify(clip(kind, 256))} in version ${JSON.stringify(clip(apiVersion, 256))}`,
    );
  }
  out.push(value);
}

export const isServiceObject = (o: KubeObject): o is ServiceObject => o.kind === 'Service';
export const isPodObject = (o: KubeObject): o is PodObject => o.kind === 'Pod';
export const isEndpointsObject = (o: KubeObject): o is EndpointsObject => o.kind === 'Endpoints';

/**
 * Request bodies: JSON (what kubectl and client libraries send) or YAML (accepted by the apiserver too), at most
 * 3 MiB (the apiserver's limit), and for objects the apiVersion/kind/name/namespace checks the apiserver makes before
 * anything reaches storage.
 */
import type { ApiObject, ResourceInfo } from '../../api/backend.js';
import { apiVersionOf } from '../../api/backend.js';
import { BadRequestError, ControllerError, UnsupportedMediaTypeError } from '../../errors.js';
import type { ApiRequest } from '../http/types.js';
import { typeProblem } from '../openapi/decode-check.js';
import { definitionOf, isCustomResource } from '../openapi/paths.js';
import { loadSchemas } from '../openapi/schemas.js';
import { SchemaNode } from '../patch/schema.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

class TooLargeError extends ControllerError {
  readonly permanent = true;
  constructor() {
    super('Request entity too large: limit is 3145728', 'RequestEntityTooLarge');
  }
}

const mediaType = (req: ApiRequest): string => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

async function readBytes(req: ApiRequest): Promise<Uint8Array> {
  const bytes = await req.body();
  if (bytes.byteLength > MAX_BODY_BYTES) throw new TooLargeError();
  return bytes;
}

export async function readText(req: ApiRequest): Promise<string> {
  return new TextDecoder().decode(await readBytes(req));
}

/** Parses a JSON, YAML or Kubernetes-protobuf document body; an empty body is undefined. */
export async function readDocument(req: ApiRequest): Promise<unknown> {
  const bytes = await readBytes(req);
  const type = mediaType(req);
  if (type === 'application/vnd.kubernetes.protobuf') {
    if (bytes.byteLength === 0) return undefined;
    const { decodeProtobufObject } = await import('../protobuf/decode.js');
    return decodeProtobufObject(bytes);
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') return undefined;
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    const { parse } = await import('yaml');
    try {
      return parse(text);
    } catch (err) {
      throw new BadRequestError(`the body of the request could not be decoded as YAML: ${(err as Error).message}`);
    }
  }
  if (type !== '' && type !== 'application/json' && !type.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An object body for `r`: apiVersion/kind default to the resource's and must match when given; metadata.namespace
 * must match the URL's (and is filled from it); metadata.name must match the URL's on PUT.
 */
export function checkObject(body: unknown, r: ResourceInfo, namespace: string | undefined, name?: string): ApiObject {
  if (!isRecord(body)) throw new BadRequestError('the body of the request must be a JSON object');
  const apiVersion = body.apiVersion ?? apiVersionOf(r);
  const kind = body.kind ?? r.kind;
  if (apiVersion !== apiVersionOf(r) || kind !== r.kind) {
    throw new BadRequestError(
      `the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`,
    );
  }
  if (body.metadata !== undefined && !isRecord(body.metadata)) {
    throw new BadRequestError('metadata: Invalid value: must be an object');
  }
  const metadata = { ...((body.metadata as Record<string, unknown>) ?? {}) };
  if (r.namespaced) {
    if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
      throw new BadRequestError(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    metadata.namespace = namespace;
  } else {
    delete metadata.namespace;
  }
  if (name !== undefined && metadata.name !== name) {
    if (metadata.name === undefined || metadata.name === '') metadata.name = name;
    else
      throw new BadRequestError(
        `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
      );
  }
  return { ...body, apiVersion: apiVersionOf(r), kind: r.kind, metadata } as ApiObject;
}

/**
 * Refuses values of the wrong JSON type with the apiserver's decoding error (400), before the backend sees them.
 * Custom resources (the Gateway API kinds) are decoded as unstructured JSON upstream, but for their metadata: a wrong
 * type elsewhere is a schema validation error (422), which their write path reports.
 */
export async function checkTypes(obj: ApiObject, r: ResourceInfo): Promise<ApiObject> {
  // Only the metadata of a custom resource is typed at decoding (into ObjectMeta), as upstream.
  const typed = isCustomResource(r) ? { metadata: obj.metadata } : obj;
  const problem = typeProblem(SchemaNode.of(await loadSchemas(), definitionOf(r)), typed);
  if (problem) {
    throw new BadRequestError(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${problem}`);
  }
  return obj;
}

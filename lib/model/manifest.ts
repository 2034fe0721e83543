/**
 * Manifest parsing as `kubectl apply -f FILE` does it: multi-document YAML (or JSON), `kind: List` (and any
 * `*List` kind with `items`) flattened, empty documents skipped, then kubectl's client-side checks: apiVersion/kind
 * present, a schema check of the supported kinds (field types, required fields, unknown fields — so a typo such as
 * `selectr:` is refused instead of silently producing a Service that selects nothing), and the kind known to the
 * cluster. Errors carry kubectl's wording and are thrown as InvalidError; nothing is returned on error.
 *
 * YAML is read with YAML 1.1 scalars, as sigs.k8s.io/yaml (go-yaml v2) reads them: unquoted `yes`/`on` are booleans,
 * so `enabled: yes` as a label value is refused exactly as kubectl refuses it. Aliases are capped by the yaml
 * package (100 by default), which defuses "billion laughs" documents.
 */
import { parseAllDocuments } from 'yaml';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { InvalidError } from '../errors.js';

export type ServiceObject = V1Service & { apiVersion: 'v1'; kind: 'Service' };
export type PodObject = V1Pod & { apiVersion: 'v1'; kind: 'Pod' };
export type EndpointsObject = V1Endpoints & { apiVersion: 'v1'; kind: 'Endpoints' };
/** Objects this controller accepts, discriminated by `kind`. */
export type KubeObject = ServiceObject | PodObject | EndpointsObject;

export const SUPPORTED_KINDS = ['Service', 'Pod', 'Endpoints'] as const;

// ---------------------------------------------------------------------------------------------------------------
// A small OpenAPI-like schema of the supported kinds, enough for kubectl's client-side checks.

type Schema =
  'string' | 'integer' | 'boolean' | 'int-or-string' | 'any' | { array: Schema } | { map: Schema } | ObjectSchema;

interface ObjectSchema {
  /** OpenAPI definition name, used in messages (io.k8s.api.core.v1.ServicePort). */
  name: string;
  fields: Record<string, Schema>;
  required?: string[];
  /** Unknown fields allowed: parts of large types this controller does not read (most of PodSpec). */
  open?: boolean;
}

const str = 'string' as const;
const int = 'integer' as const;
const bool = 'boolean' as const;
const arr = (s: Schema): Schema => ({ array: s });
const map = (s: Schema): Schema => ({ map: s });
const core = (n: string): string => `io.k8s.api.core.v1.${n}`;

const objectMeta: ObjectSchema = {
  name: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
  fields: {
    name: str,
    generateName: str,
    namespace: str,
    labels: map(str),
    annotations: map(str),
    uid: str,
    resourceVersion: str,
    generation: int,
    creationTimestamp: 'any',
    deletionTimestamp: 'any',
    deletionGracePeriodSeconds: int,
    finalizers: arr(str),
    ownerReferences: 'any',
    managedFields: 'any',
    selfLink: str,
  },
};

const servicePort: ObjectSchema = {
  name: core('ServicePort'),
  fields: { appProtocol: str, name: str, nodePort: int, port: int, protocol: str, targetPort: 'int-or-string' },
  required: ['port'],
};

const serviceSchema: ObjectSchema = {
  name: core('Service'),
  fields: {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    spec: {
      name: core('ServiceSpec'),
      fields: {
        allocateLoadBalancerNodePorts: bool,
        clusterIP: str,
        clusterIPs: arr(str),
        externalIPs: arr(str),
        externalName: str,
        externalTrafficPolicy: str,
        healthCheckNodePort: int,
        internalTrafficPolicy: str,
        ipFamilies: arr(str),
        ipFamilyPolicy: str,
        loadBalancerClass: str,
        loadBalancerIP: str,
        loadBalancerSourceRanges: arr(str),
        ports: arr(servicePort),
        publishNotReadyAddresses: bool,
        selector: map(str),
        sessionAffinity: str,
        sessionAffinityConfig: {
          name: core('SessionAffinityConfig'),
          fields: { clientIP: { name: core('ClientIPConfig'), fields: { timeoutSeconds: int } } },
        },
        trafficDistribution: str,
        type: str,
      },
    },
    status: 'any',
  },
};

const containerPort: ObjectSchema = {
  name: core('ContainerPort'),
  fields: { containerPort: int, hostIP: str, hostPort: int, name: str, protocol: str },
  required: ['containerPort'],
};
const container: ObjectSchema = {
  name: core('Container'),
  fields: { name: str, image: str, ports: arr(containerPort), restartPolicy: str },
  required: ['name'],
  open: true,
};

const podSchema: ObjectSchema = {
  name: core('Pod'),
  fields: {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    spec: {
      name: core('PodSpec'),
      fields: { containers: arr(container), initContainers: arr(container), nodeName: str, hostNetwork: bool },
      required: ['containers'],
      open: true,
    },
    status: {
      name: core('PodStatus'),
      fields: {
        phase: str,
        podIP: str,
        podIPs: arr({ name: core('PodIP'), fields: { ip: str }, required: ['ip'] }),
        conditions: arr({ name: core('PodCondition'), fields: { type: str, status: str }, open: true }),
      },
      open: true,
    },
  },
};

const endpointAddress: ObjectSchema = {
  name: core('EndpointAddress'),
  fields: { ip: str, hostname: str, nodeName: str, targetRef: 'any' },
  required: ['ip'],
};
const endpointsSchema: ObjectSchema = {
  name: core('Endpoints'),
  fields: {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    subsets: arr({
      name: core('EndpointSubset'),
      fields: {
        addresses: arr(endpointAddress),
        notReadyAddresses: arr(endpointAddress),
        ports: arr({
          name: core('EndpointPort'),
          fields: { name: str, port: int, protocol: str, appProtocol: str },
          required: ['port'],
        }),
      },
    }),
  },
};

const SCHEMAS: Record<string, ObjectSchema> = { Service: serviceSchema, Pod: podSchema, Endpoints: endpointsSchema };

/** The JSON type name kubectl's validator reports ("got \"string\", expected \"integer\""). */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks `value` against `schema`, collecting kubectl-style ValidationErrors. `path` is the display path
 * (Service.spec.ports[0]); `owner`/`field` name the enclosing definition for type errors.
 */
function check(value: unknown, schema: Schema, path: string, where: string, errs: string[]): void {
  // Explicit nulls are dropped by the API server's decoder (they mean "unset"), so they are not type errors.
  if (value === null || schema === 'any') return;
  const typeError = (expected: string) =>
    errs.push(`ValidationError(${path}): invalid type for ${where}: got "${jsonType(value)}", expected "${expected}"`);
  if (schema === 'string') {
    if (typeof value !== 'string') typeError('string');
  } else if (schema === 'integer') {
    if (typeof value !== 'number' || !Number.isInteger(value)) typeError('integer');
  } else if (schema === 'boolean') {
    if (typeof value !== 'boolean') typeError('boolean');
  } else if (schema === 'int-or-string') {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))))
      typeError('int-or-string');
  } else if ('array' in schema) {
    if (!Array.isArray(value)) return void typeError('array');
    value.forEach((item, i) => check(item, schema.array, `${path}[${i}]`, where, errs));
  } else if ('map' in schema) {
    if (!isPlainObject(value)) return void typeError('object');
    for (const [k, v] of Object.entries(value)) check(v, schema.map, `${path}.${k}`, where, errs);
  } else {
    if (!isPlainObject(value)) return void typeError('object');
    for (const [k, v] of Object.entries(value)) {
      const fieldSchema = schema.fields[k];
      if (fieldSchema === undefined) {
        if (!schema.open) errs.push(`ValidationError(${path}): unknown field "${k}" in ${schema.name}`);
        continue;
      }
      check(v, fieldSchema, `${path}.${k}`, `${schema.name}.${k}`, errs);
    }
    for (const r of schema.required ?? []) {
      if (value[r] === undefined || value[r] === null) {
        errs.push(`ValidationError(${path}): missing required field "${r}" in ${schema.name}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** utilerrors.NewAggregate(...).Error(): one message bare, several in brackets. */
const aggregate = (msgs: string[]): string => (msgs.length === 1 ? (msgs[0] as string) : `[${msgs.join(', ')}]`);

function fail(message: string): never {
  throw new InvalidError(message);
}

/** Strips the yaml package's " at line L, column C:" tail and source excerpt, keeping the first sentence. */
function yamlReason(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Parses one manifest file. `source` is the file name as the user gave it (kubectl quotes it in messages).
 * Returns the objects in file order, Lists flattened. Throws InvalidError with kubectl's wording on the first problem.
 */
export function parseManifests(text: string, source = '<stdin>'): KubeObject[] {
  const docs = parseAllDocuments(text, { version: '1.1' });
  const values: unknown[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      fail(
        `error: error parsing ${source}: error converting YAML to JSON: yaml: ${line ? `line ${line}: ` : ''}${yamlReason(err.message)}`,
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      fail(`error: error parsing ${source}: error converting YAML to JSON: yaml: ${(e as Error).message}`);
    }
    if (value === null || value === undefined) continue; // empty document (only comments, or `---` alone)
    values.push(value);
  }
  const out: KubeObject[] = [];
  for (const v of values) flatten(v, source, out);
  return out;
}

function flatten(value: unknown, source: string, out: KubeObject[]): void {
  if (!isPlainObject(value)) {
    fail(
      `error: error parsing ${source}: json: cannot unmarshal ${jsonType(value)} into Go value of type map[string]interface {}`,
    );
  }
  const missing: string[] = [];
  if (value.apiVersion === undefined || value.apiVersion === '' || value.apiVersion === null)
    missing.push('apiVersion not set');
  if (value.kind === undefined || value.kind === '' || value.kind === null) missing.push('kind not set');
  if (missing.length > 0) fail(`error: error validating "${source}": error validating data: ${aggregate(missing)}`);
  const kind = String(value.kind);
  const apiVersion = String(value.apiVersion);

  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value.items))) {
    if (!Array.isArray(value.items ?? [])) {
      fail(
        `error: error validating "${source}": error validating data: ValidationError(${kind}.items): invalid type for ${kind}.items: got "${jsonType(value.items)}", expected "array"`,
      );
    }
    for (const item of (value.items as unknown[] | undefined) ?? []) flatten(item, source, out);
    return;
  }

  const schema = SCHEMAS[kind];
  if (schema && apiVersion === 'v1') {
    const errs: string[] = [];
    check(value, schema, kind, schema.name, errs);
    if (errs.length > 0) fail(`error: error validating "${source}": error validating data: ${aggregate(errs)}`);
    out.push(value as unknown as KubeObject);
    return;
  }
  const meta = isPlainObject(value.metadata) ? value.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : '';
  fail(
    `error: resource mapping not found for name: "${name}" namespace: "${namespace}" from "${source}": no matches for kind "${kind}" in version "${apiVersion}"`,
  );
}

export const isServiceObject = (o: KubeObject): o is ServiceObject => o.kind === 'Service';
export const isPodObject = (o: KubeObject): o is PodObject => o.kind === 'Pod';
export const isEndpointsObject = (o: KubeObject): o is EndpointsObject => o.kind === 'Endpoints';

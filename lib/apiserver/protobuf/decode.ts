/**
 * Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) to the JSON the rest of the server
 * handles. The envelope is the 4-byte magic "k8s\0" followed by a runtime.Unknown whose typeMeta names the kind and
 * whose raw bytes are the object's message; field numbers and names come from the generated table in
 * ./messages.json (scripts/protobuf/generate.ts). Go marshals every non-pointer field, so zero strings, numbers and
 * `false` are dropped, as the same object's JSON would omit them — except the pointer booleans listed below, where an
 * explicit false differs from unset (allocateLoadBalancerNodePorts: false keeps a LoadBalancer without NodePorts).
 * Loaded on the first protobuf body only.
 */
import { BadRequestError, UnsupportedMediaTypeError } from '../../errors.js';

type Field = [string, string, 1?] | [string, 'map', string, string];
type Table = Record<string, Record<string, Field>>;

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1.';
/** `*bool` fields of the accepted kinds whose false is meaningful. */
const POINTER_BOOLS = new Set([
  'allocateLoadBalancerNodePorts',
  'automountServiceAccountToken',
  'enableServiceLinks',
  'hostUsers',
  'ready',
  'serving',
  'terminating',
  'started',
]);
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new BadRequestError('protobuf: unexpected end of data');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
    throw new BadRequestError('protobuf: varint too long');
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new BadRequestError('protobuf: length out of range');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  fixed(n: 4 | 8): DataView {
    if (this.pos + n > this.buf.length) throw new BadRequestError('protobuf: unexpected end of data');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.fixed(8);
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.fixed(4);
    else throw new BadRequestError(`protobuf: unsupported wire type ${wireType}`);
  }
}

const utf8 = new TextDecoder();
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function rfc3339(seconds: number, nanos: number, micro: boolean): string | undefined {
  if (seconds === 0 && nanos === 0) return undefined;
  const d = new Date(seconds * 1000);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return micro ? `${base}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${base}Z`;
}

function parseJson(raw: unknown): unknown {
  if (typeof raw !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Messages whose JSON form is not their field structure (custom marshalers upstream). */
function special(type: string, m: Record<string, unknown>): unknown {
  switch (type) {
    case `${META}Time`:
    case `${META}MicroTime`:
      return rfc3339(Number(m.seconds ?? 0), Number(m.nanos ?? 0), type.endsWith('MicroTime'));
    case `${META}Duration`:
      return `${Number(m.duration ?? 0) / 1e9}s`;
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
    case 'k8s.io.apimachinery.pkg.api.resource.QuantityValue':
      return m.string ?? '0';
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return Number(m.type ?? 0) === 1 ? (m.strVal ?? '') : Number(m.intVal ?? 0);
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension':
      return parseJson(m.raw);
    case `${META}FieldsV1`:
      return parseJson(m.Raw);
    default:
      return m;
  }
}

class Decoder {
  constructor(private readonly table: Table) {}

  scalar(type: string, r: Reader, wireType: number): unknown {
    switch (type) {
      case 'string':
        return utf8.decode(r.bytes());
      case 'bytes':
        return Buffer.from(r.bytes()).toString('base64');
      case 'bool':
        return r.varint() !== 0n;
      case 'int32':
      case 'int64':
        return Number(BigInt.asIntN(64, r.varint()));
      case 'double':
        return r.fixed(8).getFloat64(0, true);
      case 'float':
        return r.fixed(4).getFloat32(0, true);
      default:
        if (wireType !== 2) throw new BadRequestError(`protobuf: ${type} must be length-delimited`);
        return this.message(type, r.bytes());
    }
  }

  message(type: string, buf: Uint8Array): unknown {
    const fields = this.table[type];
    if (!fields) throw new BadRequestError(`protobuf: unknown message ${type}`);
    const out: Record<string, unknown> = {};
    const r = new Reader(buf);
    while (!r.done) {
      const tag = Number(r.varint());
      const f = fields[String(tag >> 3)];
      if (!f) {
        r.skip(tag & 7);
        continue;
      }
      this.field(f, r, tag & 7, out);
    }
    return special(type, out);
  }

  private field(f: Field, r: Reader, wireType: number, out: Record<string, unknown>): void {
    const [name, type] = f;
    if (type === 'map') {
      const entry = new Reader(r.bytes());
      let key: unknown = '';
      let value: unknown = f[3] === 'string' ? '' : {};
      while (!entry.done) {
        const tag = Number(entry.varint());
        if (tag >> 3 === 1) key = this.scalar(String(f[2]), entry, tag & 7);
        else if (tag >> 3 === 2) value = this.scalar(f[3]!, entry, tag & 7);
        else entry.skip(tag & 7);
      }
      ((out[name] ??= {}) as Record<string, unknown>)[String(key)] = value;
    } else if (f[2] === 1) {
      const list = (out[name] ??= []) as unknown[];
      const packed = wireType === 2 && ['int32', 'int64', 'bool', 'double', 'float'].includes(type);
      if (!packed) list.push(this.scalar(type, r, wireType));
      else {
        const inner = new Reader(r.bytes());
        while (!inner.done) list.push(this.scalar(type, inner, type === 'double' ? 1 : type === 'float' ? 5 : 0));
      }
    } else {
      const v = this.scalar(type, r, wireType);
      if (v === '' || v === 0 || v === undefined || (v === false && !POINTER_BOOLS.has(name))) delete out[name];
      else out[name] = v;
    }
  }
}

let tablePromise: Promise<Table> | undefined;
const loadTable = (): Promise<Table> =>
  (tablePromise ??= import('./messages.json', { with: { type: 'json' } }).then(
    (m) => (m as unknown as { default: Table }).default,
  ));

function messageFor(apiVersion: string, kind: string): string {
  if (kind === 'DeleteOptions') return `${META}DeleteOptions`;
  if (apiVersion === 'v1') return `k8s.io.api.core.v1.${kind}`;
  const [group, version] = apiVersion.split('/');
  return `k8s.io.api.${(group ?? '').split('.')[0]}.${version}.${kind}`;
}

/** A protobuf-encoded object as the JSON object it stands for (apiVersion and kind from the envelope). */
export async function decodeProtobufObject(body: Uint8Array): Promise<Record<string, unknown>> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) {
    throw new BadRequestError('protobuf: the body does not start with the Kubernetes protobuf magic number');
  }
  const d = new Decoder(await loadTable());
  const unknown = d.message('k8s.io.apimachinery.pkg.runtime.Unknown', body.subarray(4)) as Record<string, unknown>;
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  if (unknown.contentEncoding)
    throw new UnsupportedMediaTypeError(`unsupported content encoding ${String(unknown.contentEncoding)}`);
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  const type = messageFor(apiVersion, kind);
  const raw = Buffer.from(String(unknown.raw ?? ''), 'base64');
  const obj = d.message(type, raw) as Record<string, unknown>;
  return { apiVersion, kind, ...obj };
}

/**
 * The protobuf body decoder on hand-encoded messages (kubectl's own bodies are covered by the create-service
 * acceptance test): envelope, nested messages, maps, IntOrString, pointer booleans, negative numbers, unknown fields.
 */
import { describe, expect, it } from 'vitest';
import { decodeProtobufObject } from '../../lib/apiserver/protobuf/decode.js';
import { BadRequestError } from '../../lib/errors.js';

const varint = (n: bigint | number): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
};
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const bytes = (field: number, data: number[] | string) => {
  const b = typeof data === 'string' ? [...Buffer.from(data)] : data;
  return [...tag(field, 2), ...varint(b.length), ...b];
};
const int = (field: number, n: number) => [...tag(field, 0), ...varint(n)];
const envelope = (apiVersion: string, kind: string, raw: number[]) =>
  new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...bytes(1, [...bytes(1, apiVersion), ...bytes(2, kind)]), ...bytes(2, raw)]);

describe('protobuf bodies', () => {
  it('decodes a Service as kubectl create service sends it', async () => {
    const meta = [...bytes(1, 'web'), ...bytes(11, [...bytes(1, 'app'), ...bytes(2, 'web')])];
    const port = [
      ...bytes(1, 'http'),
      ...bytes(2, 'TCP'),
      ...int(3, 80),
      ...bytes(4, [...int(1, 1), ...bytes(3, 'http-alt')]),
      ...int(5, 0),
    ];
    const spec = [
      ...bytes(1, port),
      ...bytes(4, 'LoadBalancer'),
      ...bytes(3, ''),
      ...int(20, 0),
      ...int(13, 0),
      ...int(99, 7),
    ];
    const obj = await decodeProtobufObject(envelope('v1', 'Service', [...bytes(1, meta), ...bytes(2, spec)]));
    expect(obj).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http-alt' }],
        type: 'LoadBalancer',
        allocateLoadBalancerNodePorts: false,
      },
    });
  });

  it('integer IntOrString, negative int64, timestamps', async () => {
    const port = [...int(3, 53), ...bytes(4, [...int(1, 0), ...int(2, 5353)])];
    const svc = await decodeProtobufObject(envelope('v1', 'Service', [...bytes(2, bytes(1, port))]));
    expect(svc.spec).toEqual({ ports: [{ port: 53, targetPort: 5353 }] });
    const meta = [...bytes(1, 'ns'), ...int(10, -1), ...bytes(8, int(1, 1767225600))];
    const ns = await decodeProtobufObject(envelope('v1', 'Namespace', bytes(1, meta)));
    expect(ns.metadata).toEqual({
      name: 'ns',
      deletionGracePeriodSeconds: -1,
      creationTimestamp: '2026-01-01T00:00:00Z',
    });
  });

  it('refuses bodies without the magic number, truncated data and unknown kinds', async () => {
    await expect(decodeProtobufObject(new Uint8Array([1, 2, 3, 4, 5]))).rejects.toBeInstanceOf(BadRequestError);
    const truncated = envelope('v1', 'Service', bytes(1, bytes(1, 'web'))).slice(0, -2);
    await expect(decodeProtobufObject(truncated)).rejects.toBeInstanceOf(BadRequestError);
    await expect(decodeProtobufObject(envelope('apps/v1', 'Deployment', []))).rejects.toThrow('unknown message');
  });
});

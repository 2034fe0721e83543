/**
 * Strategic merge patch over the generated schemas: the upstream patch keys (Service ports by port, containers and
 * env by name, ...) and the directives kubectl sends ($patch, $setElementOrder, $deleteFromPrimitiveList,
 * $retainKeys). Expected results follow k8s.io/apimachinery/pkg/util/strategicpatch's documented behaviour.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSchemas } from '../../lib/apiserver/openapi/schemas.js';
import { SchemaNode } from '../../lib/apiserver/patch/schema.js';
import { strategicMerge } from '../../lib/apiserver/patch/strategic.js';
import { BadRequestError } from '../../lib/errors.js';

let service: SchemaNode;
let pod: SchemaNode;
beforeAll(async () => {
  const schemas = await loadSchemas();
  service = SchemaNode.of(schemas, 'io.k8s.api.core.v1.Service')!;
  pod = SchemaNode.of(schemas, 'io.k8s.api.core.v1.Pod')!;
});

type Obj = Record<string, unknown>;
const svc = (spec: Obj, metadata: Obj = { name: 's' }): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata, spec });
const ports = (...ps: [number, string?][]) => ps.map(([port, name]) => (name ? { name, port } : { port }));

describe('strategic merge patch: Service', () => {
  it('merges ports by port; other fields of a port survive; new ports are appended', () => {
    const cur = svc({
      ports: [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'https', port: 443 },
      ],
      type: 'ClusterIP',
    });
    const out = strategicMerge(
      cur,
      {
        spec: {
          ports: [
            { port: 80, targetPort: 9090 },
            { port: 53, protocol: 'UDP' },
          ],
        },
      },
      service,
    );
    expect((out.spec as Obj).ports).toEqual([
      { name: 'http', port: 80, targetPort: 9090 },
      { name: 'https', port: 443 },
      { port: 53, protocol: 'UDP' },
    ]);
    expect((out.spec as Obj).type).toBe('ClusterIP');
  });

  it('$setElementOrder orders the list; server-only items keep their place', () => {
    const cur = svc({ ports: ports([80, 'a'], [81, 'b'], [82, 'c']) });
    const patch = {
      spec: { '$setElementOrder/ports': [{ port: 82 }, { port: 80 }], ports: [{ port: 80, name: 'A' }] },
    };
    const out = strategicMerge(cur, patch, service);
    expect(((out.spec as Obj).ports as Obj[]).map((p) => p.name)).toEqual(['b', 'c', 'A']);
  });

  it('$patch: delete removes one item, $patch: replace replaces the list or a map', () => {
    const cur = svc({ ports: ports([80], [81]), selector: { app: 'a', tier: 'web' } });
    const del = strategicMerge(cur, { spec: { ports: [{ port: 80, $patch: 'delete' }] } }, service);
    expect((del.spec as Obj).ports).toEqual([{ port: 81 }]);
    const rep = strategicMerge(cur, { spec: { ports: [{ $patch: 'replace' }, { port: 90 }] } }, service);
    expect((rep.spec as Obj).ports).toEqual([{ port: 90 }]);
    const sel = strategicMerge(cur, { spec: { selector: { $patch: 'replace', app: 'b' } } }, service);
    expect((sel.spec as Obj).selector).toEqual({ app: 'b' });
  });

  it('null deletes a key; atomic lists (externalIPs) are replaced', () => {
    const cur = svc({ externalIPs: ['1.1.1.1', '2.2.2.2'], selector: { app: 'a', tier: 'web' } });
    const out = strategicMerge(cur, { spec: { externalIPs: ['3.3.3.3'], selector: { tier: null } } }, service);
    expect(out.spec).toEqual({ externalIPs: ['3.3.3.3'], selector: { app: 'a' } });
  });

  it('finalizers merge as a set; $deleteFromPrimitiveList removes values', () => {
    const cur = svc({}, { name: 's', finalizers: ['a', 'b'] });
    const add = strategicMerge(cur, { metadata: { finalizers: ['b', 'c'] } }, service);
    expect((add.metadata as Obj).finalizers).toEqual(['a', 'b', 'c']);
    const del = strategicMerge(cur, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, service);
    expect((del.metadata as Obj).finalizers).toEqual(['b']);
  });

  it('refuses malformed patches with 400', () => {
    expect(() => strategicMerge(svc({ ports: ports([80]) }), { spec: { ports: [{ name: 'x' }] } }, service)).toThrow(
      'does not contain declared merge key: port',
    );
    expect(() => strategicMerge(svc({}), { spec: { $patch: 'explode' } }, service)).toThrow(BadRequestError);
  });
});

describe('strategic merge patch: Pod', () => {
  const podOf = (spec: Obj): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });

  it('merges containers by name and env by name', () => {
    const cur = podOf({
      containers: [
        {
          name: 'app',
          image: 'v1',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
        { name: 'sidecar', image: 's1' },
      ],
    });
    const out = strategicMerge(
      cur,
      { spec: { containers: [{ name: 'app', image: 'v2', env: [{ name: 'B', value: '3' }] }] } },
      pod,
    );
    expect((out.spec as Obj).containers).toEqual([
      {
        name: 'app',
        image: 'v2',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '3' },
        ],
      },
      { name: 'sidecar', image: 's1' },
    ]);
  });

  it('$retainKeys keeps only the listed keys of a volume (the volumes retainKeys strategy)', () => {
    const cur = podOf({ volumes: [{ name: 'v', emptyDir: {} }] });
    const patch = { spec: { volumes: [{ name: 'v', hostPath: { path: '/x' }, $retainKeys: ['name', 'hostPath'] }] } };
    const out = strategicMerge(cur, patch, pod);
    expect((out.spec as Obj).volumes).toEqual([{ name: 'v', hostPath: { path: '/x' } }]);
  });

  it('container ports merge by containerPort', () => {
    const cur = podOf({ containers: [{ name: 'app', ports: [{ containerPort: 80, name: 'http' }] }] });
    const out = strategicMerge(
      cur,
      { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
      pod,
    );
    expect(((out.spec as Obj).containers as Obj[])[0]!.ports).toEqual([
      { containerPort: 80, name: 'http', protocol: 'TCP' },
    ]);
  });
});

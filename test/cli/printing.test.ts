/**
 * svcctl's client-side pieces that must match kubectl exactly, as units: Go's tab writer, the Table printer, describe's
 * endpoints and events, the DATAPLANE cell, and client-side apply (the last-applied annotation as Go's encoder writes
 * it, and the three-way strategic merge patch with the server's patch keys). End to end against kubectl itself:
 * test/cli/kubectl-interop.test.ts.
 */
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { loadSchemas } from '../../lib/apiserver/openapi/schemas.js';
import { SchemaNode } from '../../lib/apiserver/patch/schema.js';
import {
  goJson,
  LAST_APPLIED,
  lastAppliedOf,
  threeWayPatch,
  withLastApplied,
} from '../../tools/cli/commands/apply-patch.js';
import { describeServiceText, sliceEndpoints } from '../../tools/cli/commands/describe.js';
import { dataPlaneCell } from '../../tools/cli/commands/get.js';
import { cellText, printTable, type Table } from '../../tools/cli/commands/table.js';
import { tabulate, tabwrite, DESCRIBE_TABS } from '../../tools/cli/tabwriter.js';

describe("Go's tab writer", () => {
  it('pads to the widest cell plus three, never below six (kubectl get)', () => {
    expect(
      tabulate([
        ['A', 'B'],
        ['xy', 'z'],
      ]),
    ).toBe('A     B\nxy    z\n');
  });

  it('sizes a column per block of consecutive lines that have it; the last cell is never padded', () => {
    const text = 'Name:\tweb\nPort:\thttp\t80/TCP\nTargetPort:\t8080/TCP\nPort:\thttps-long\t443/TCP\n';
    expect(tabwrite(text, DESCRIBE_TABS)).toBe(
      'Name:        web\nPort:        http  80/TCP\nTargetPort:  8080/TCP\nPort:        https-long  443/TCP\n',
    );
    // An empty last cell leaves the padding of the cell before it, as Go does.
    expect(
      tabulate([
        ['A', 'B', ''],
        ['abc', 'd', 'e'],
      ]),
    ).toBe('A     B     \nabc   d     e\n');
  });
});

describe('the Table printer', () => {
  const table: Table = {
    kind: 'Table',
    columnDefinitions: [
      { name: 'Name', priority: 0 },
      { name: 'Note', priority: 0 },
      { name: 'Selector', priority: 1 },
    ],
    rows: [
      {
        cells: ['a', 'line one\nline two', 'x=1'],
        object: { metadata: { namespace: 'ns1', labels: { b: '2', a: '1' } } },
      },
      { cells: ['b', null, 3], object: { metadata: { namespace: 'ns2' } } },
    ],
  };

  it('drops priority columns unless wide; NAMESPACE first with -A, LABELS last; cells as kubectl prints them', () => {
    expect(printTable([table])).toBe('NAME   NOTE\na      line one...\nb      \n');
    expect(printTable([table], { wide: true, withNamespace: true, showLabels: true })).toBe(
      [
        'NAMESPACE   NAME   NOTE          SELECTOR   LABELS',
        'ns1         a      line one...   x=1        a=1,b=2',
        'ns2         b                    3          <none>',
        '',
      ].join('\n'),
    );
    expect(cellText(true)).toBe('true');
  });

  it("DATAPLANE: the reason of the Node's DataPlaneReady condition", () => {
    const row = (conditions: { type: string; status: string; reason: string }[]) => ({
      cells: [],
      object: { status: { conditions } },
    });
    expect(
      dataPlaneCell(
        row([
          { type: 'Ready', status: 'True', reason: 'InstanceRunning' },
          { type: 'DataPlaneReady', status: 'False', reason: 'PushFailed' },
        ]),
      ),
    ).toBe('PushFailed');
    expect(dataPlaneCell(row([{ type: 'Ready', status: 'True', reason: 'InstanceRunning' }]))).toBe('<none>');
  });
});

describe('describe service', () => {
  const slice = (ready: boolean[], ports = [{ name: '', port: 4567 }]): V1EndpointSlice => ({
    addressType: 'IPv4',
    endpoints: ready.map((r, i) => ({ addresses: [`10.244.1.${i + 1}`], conditions: { ready: r } })),
    ports,
  });

  it('formatEndpointSlices: ready addresses with the port of that name, three then "+ N more..."', () => {
    expect(sliceEndpoints([slice([true, false, true])], '')).toBe('10.244.1.1:4567,10.244.1.3:4567');
    expect(sliceEndpoints([slice([true, true, true, true, true])], '')).toBe(
      '10.244.1.1:4567,10.244.1.2:4567,10.244.1.3:4567 + 2 more...',
    );
    expect(sliceEndpoints([slice([true], [{ name: 'http', port: 80 }])], 'https')).toBe('');
    expect(sliceEndpoints([], 'http')).toBe('<none>');
  });

  it('lays a NodePort Service out as kubectl describe does', () => {
    const svc: V1Service = {
      metadata: { name: 'hellok8s-svc', namespace: 'default', annotations: { [LAST_APPLIED]: '{}', team: 'a' } },
      spec: {
        type: 'NodePort',
        selector: { app: 'hellok8s' },
        clusterIP: '10.102.141.32',
        clusterIPs: ['10.102.141.32'],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [{ port: 4567, nodePort: 30001, protocol: 'TCP', targetPort: 4567 as never }],
        sessionAffinity: 'None',
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Cluster',
      },
    };
    const text = describeServiceText(svc, [slice([true])], []);
    expect(text).toContain('Name:                     hellok8s-svc\n');
    expect(text).toContain('Annotations:              team: a\n');
    expect(text).toContain('Selector:                 app=hellok8s\n');
    expect(text).toContain('NodePort:                 <unset>  30001/TCP\n');
    expect(text).toContain('Endpoints:                10.244.1.1:4567\n');
    expect(text).toContain('External Traffic Policy:  Cluster\n');
    expect(text.endsWith('Events:                   <none>\n')).toBe(true);
  });
});

describe('client-side apply', () => {
  const svc = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', ...meta },
    spec,
  });

  it("writes the last-applied annotation as Go's encoder does: sorted keys, <>& escaped, newline, {} annotations", () => {
    const m = withLastApplied(svc({ ports: [{ port: 80 }], selector: { b: '&', a: '<x>' } }));
    const text = (m.metadata as { annotations: Record<string, string> }).annotations[LAST_APPLIED]!;
    expect(text).toBe(
      '{"apiVersion":"v1","kind":"Service","metadata":{"annotations":{},"name":"web","namespace":"default"},"spec":{"ports":[{"port":80}],"selector":{"a":"\\u003cx\\u003e","b":"\\u0026"}}}\n',
    );
    expect(lastAppliedOf(m)).toEqual({
      ...svc({ ports: [{ port: 80 }], selector: { b: '&', a: '<x>' } }),
      metadata: { annotations: {}, name: 'web', namespace: 'default' },
    });
    expect(goJson('\u2028')).toBe('"\\u2028"');
  });

  it('the three-way patch: empty when nothing changed; list items by merge key, removals as directives', async () => {
    const node = SchemaNode.of(await loadSchemas(), 'io.k8s.api.core.v1.Service');
    const original = svc(
      {
        ports: [
          { name: 'a', port: 80 },
          { name: 'b', port: 443 },
        ],
        selector: { app: 'x' },
      },
      { labels: { keep: '1', drop: '2' } },
    );
    const current = structuredClone(original) as Record<string, unknown>;
    (current.spec as Record<string, unknown>).clusterIP = '10.96.0.9'; // server-set fields stay untouched
    (current.spec as { ports: Record<string, unknown>[] }).ports[0]!.protocol = 'TCP';
    expect(threeWayPatch(original, original, current, node)).toEqual({});
    const modified = svc(
      {
        ports: [
          { name: 'a', port: 80 },
          { name: 'c', port: 8443 },
        ],
        selector: { app: 'x' },
      },
      { labels: { keep: '1' } },
    );
    expect(threeWayPatch(original, modified, current, node)).toEqual({
      metadata: { labels: { drop: null } },
      spec: {
        '$setElementOrder/ports': [{ port: 80 }, { port: 8443 }],
        ports: [
          { port: 443, $patch: 'delete' },
          { name: 'c', port: 8443 },
        ],
      },
    });
  });

  it('lists without a merge key are replaced whole; primitive merge lists use $deleteFromPrimitiveList', async () => {
    const node = SchemaNode.of(await loadSchemas(), 'io.k8s.api.core.v1.Service');
    const original = svc({ externalIPs: ['1.1.1.1', '2.2.2.2'] }, { finalizers: ['a', 'b'] });
    const modified = svc({ externalIPs: ['1.1.1.1'] }, { finalizers: ['a', 'c'] });
    expect(threeWayPatch(original, modified, original, node)).toEqual({
      metadata: {
        finalizers: ['c'],
        '$deleteFromPrimitiveList/finalizers': ['b'],
        '$setElementOrder/finalizers': ['a', 'c'],
      },
      spec: { externalIPs: ['1.1.1.1'] },
    });
  });
});

/**
 * Gateway and route status as the Gateway API's conformance suite expects it for these kinds (a table: scenario ->
 * the conditions' type/status/reason), computed by the pure attachment (lib/gateway/attach.ts) and status
 * (lib/gateway/status.ts) code. The reasons are the API's standard ones (apis/v1 *ConditionReason constants).
 */
import { describe, expect, it } from 'vitest';
import { attach, type AttachInput } from '../../lib/gateway/attach.js';
import { gatewayClassStatus, gatewayStatus, routeParents, type GatewayOutcome } from '../../lib/gateway/status.js';
import { GATEWAY_CONTROLLER_NAME } from '../../lib/model/gateway/types.js';
import { gateway, gatewayClass, grant, listener, namespace, service, tcpRoute, tlsRoute, udpRoute } from './fixture.js';

const NOW = '2026-12-02T00:00:00.000Z';
const ACM = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-000000000001';
const svcs = [
  service('tcp-a', [{ port: 8080, nodePort: 30080 }]),
  service('tcp-b', [{ port: 9000, nodePort: 30900 }]),
  service('dns', [{ port: 53, protocol: 'UDP', nodePort: 30053 }]),
];
const three = gateway([listener('a', 'TCP', 8080), listener('b', 'TCP', 9000), listener('dns', 'UDP', 53)]);
const ok: GatewayOutcome = { hostname: 'k8s-default-shared-0123456789.elb.us-east-1.amazonaws.com' };

/** type=status/reason, in condition order. */
const brief = (cs: { type: string; status: string; reason: string }[] | undefined) =>
  (cs ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);

function run(input: Partial<AttachInput>, outcome: GatewayOutcome = ok) {
  const full: AttachInput = { gateway: three, routes: [], services: svcs, grants: [], namespaces: [], ...input };
  const a = attach(full);
  const gs = gatewayStatus(full.gateway, a, outcome, NOW);
  const routes = Object.fromEntries([...a.routes].map(([k, rs]) => [k, rs.map((r) => brief(r.conditions))]));
  return {
    a,
    gs,
    routes,
    listeners: Object.fromEntries(
      gs.listeners!.map((l) => [l.name, { attached: l.attachedRoutes, conds: brief(l.conditions) }]),
    ),
  };
}

const LISTENER_OK = [
  'Accepted=True/Accepted',
  'ResolvedRefs=True/ResolvedRefs',
  'Conflicted=False/NoConflicts',
  'Programmed=True/Programmed',
];
const ROUTE_OK = ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'];

describe('Gateway and route status (conformance table)', () => {
  it('three listeners, three routes: everything accepted, resolved and programmed; addresses hold the NLB name', () => {
    const r = run({
      routes: [
        tcpRoute('a', { parents: [{ name: 'shared', sectionName: 'a' }], backends: [{ name: 'tcp-a', port: 8080 }] }),
        tcpRoute('b', { parents: [{ name: 'shared', sectionName: 'b' }], backends: [{ name: 'tcp-b', port: 9000 }] }),
        udpRoute('dns', { parents: [{ name: 'shared', sectionName: 'dns' }], backends: [{ name: 'dns', port: 53 }] }),
      ],
    });
    expect(brief(r.gs.conditions)).toEqual(['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    expect(r.gs.addresses).toEqual([{ type: 'Hostname', value: ok.hostname }]);
    for (const n of ['a', 'b', 'dns']) expect(r.listeners[n]).toEqual({ attached: 1, conds: LISTENER_OK });
    expect(r.gs.listeners!.find((l) => l.name === 'dns')!.supportedKinds).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'UDPRoute' },
    ]);
    expect(r.routes).toEqual({
      'TCPRoute/default/a': [ROUTE_OK],
      'TCPRoute/default/b': [ROUTE_OK],
      'UDPRoute/default/dns': [ROUTE_OK],
    });
    expect(r.gs.conditions!.every((c) => c.observedGeneration === 2 && c.lastTransitionTime === NOW)).toBe(true);
  });

  const cases: {
    name: string;
    input: Partial<AttachInput>;
    outcome?: GatewayOutcome;
    route?: string[];
    gw?: string[];
    listener?: [string, number, string[]];
  }[] = [
    {
      name: 'sectionName naming no listener: NoMatchingParent',
      input: {
        routes: [
          tcpRoute('x', {
            parents: [{ name: 'shared', sectionName: 'nope' }],
            backends: [{ name: 'tcp-a', port: 8080 }],
          }),
        ],
      },
      route: ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs'],
    },
    {
      name: 'port naming no listener: NoMatchingParent',
      input: {
        routes: [
          tcpRoute('x', { parents: [{ name: 'shared', port: 1234 }], backends: [{ name: 'tcp-a', port: 8080 }] }),
        ],
      },
      route: ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs'],
    },
    {
      name: 'a route from another namespace, listeners allow Same (the default): NotAllowedByListeners',
      input: {
        routes: [
          tcpRoute('x', {
            ns: 'team',
            parents: [{ name: 'shared', namespace: 'default', sectionName: 'a' }],
            backends: [{ name: 'tcp-a', port: 8080, namespace: 'default' }],
          }),
        ],
        grants: [grant('default', 'team', 'TCPRoute')],
      },
      route: ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs'],
    },
    {
      name: 'a UDPRoute on a TCP listener: NotAllowedByListeners',
      input: {
        routes: [
          udpRoute('x', { parents: [{ name: 'shared', sectionName: 'a' }], backends: [{ name: 'dns', port: 53 }] }),
        ],
      },
      route: ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs'],
    },
    {
      name: 'a missing Service: accepted, ResolvedRefs=False BackendNotFound',
      input: {
        routes: [
          tcpRoute('x', { parents: [{ name: 'shared', sectionName: 'a' }], backends: [{ name: 'gone', port: 8080 }] }),
        ],
      },
      route: ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound'],
      listener: ['a', 1, LISTENER_OK],
    },
    {
      name: 'a Service without that port: BackendNotFound',
      input: {
        routes: [
          tcpRoute('x', { parents: [{ name: 'shared', sectionName: 'a' }], backends: [{ name: 'tcp-a', port: 1 }] }),
        ],
      },
      route: ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound'],
    },
    {
      name: 'a backend of another kind: InvalidKind',
      input: {
        routes: [
          tcpRoute('x', {
            parents: [{ name: 'shared', sectionName: 'a' }],
            backends: [{ name: 'b', port: 1, group: 'example.com', kind: 'Bucket' }],
          }),
        ],
      },
      route: ['Accepted=True/Accepted', 'ResolvedRefs=False/InvalidKind'],
    },
    {
      name: 'a backend in another namespace without a ReferenceGrant: RefNotPermitted',
      input: {
        services: [...svcs, service('db', [{ port: 8080, nodePort: 30081 }], { ns: 'data' })],
        routes: [
          tcpRoute('x', {
            parents: [{ name: 'shared', sectionName: 'a' }],
            backends: [{ name: 'db', port: 8080, namespace: 'data' }],
          }),
        ],
      },
      route: ['Accepted=True/Accepted', 'ResolvedRefs=False/RefNotPermitted'],
    },
    {
      name: 'the same backend with a ReferenceGrant in its namespace: resolved',
      input: {
        services: [...svcs, service('db', [{ port: 8080, nodePort: 30081 }], { ns: 'data' })],
        grants: [grant('data', 'default', 'TCPRoute', { name: 'db' })],
        routes: [
          tcpRoute('x', {
            parents: [{ name: 'shared', sectionName: 'a' }],
            backends: [{ name: 'db', port: 8080, namespace: 'data' }],
          }),
        ],
      },
      route: ROUTE_OK,
    },
    {
      name: 'a grant for another kind does not count: RefNotPermitted',
      input: {
        services: [...svcs, service('db', [{ port: 8080, nodePort: 30081 }], { ns: 'data' })],
        grants: [grant('data', 'default', 'UDPRoute')],
        routes: [
          tcpRoute('x', {
            parents: [{ name: 'shared', sectionName: 'a' }],
            backends: [{ name: 'db', port: 8080, namespace: 'data' }],
          }),
        ],
      },
      route: ['Accepted=True/Accepted', 'ResolvedRefs=False/RefNotPermitted'],
    },
    {
      name: 'namespaces from Selector: a labelled namespace attaches',
      input: {
        gateway: gateway([
          listener('a', 'TCP', 8080, {
            allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { shared: 'yes' } } } },
          }),
        ]),
        namespaces: [namespace('team', { shared: 'yes' })],
        services: [service('app', [{ port: 8080, nodePort: 30082 }], { ns: 'team' })],
        routes: [
          tcpRoute('x', {
            ns: 'team',
            parents: [{ name: 'shared', namespace: 'default' }],
            backends: [{ name: 'app', port: 8080 }],
          }),
        ],
      },
      route: ROUTE_OK,
      listener: ['a', 1, LISTENER_OK],
    },
    {
      name: 'namespaces from Selector: an unlabelled namespace does not',
      input: {
        gateway: gateway([
          listener('a', 'TCP', 8080, {
            allowedRoutes: {
              namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'shared', operator: 'Exists' }] } },
            },
          }),
        ]),
        namespaces: [namespace('team')],
        services: [service('app', [{ port: 8080, nodePort: 30082 }], { ns: 'team' })],
        routes: [
          tcpRoute('x', {
            ns: 'team',
            parents: [{ name: 'shared', namespace: 'default' }],
            backends: [{ name: 'app', port: 8080 }],
          }),
        ],
      },
      route: ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs'],
      listener: [
        'a',
        0,
        [
          'Accepted=True/Accepted',
          'ResolvedRefs=True/ResolvedRefs',
          'Conflicted=False/NoConflicts',
          'Programmed=True/Programmed',
        ],
      ],
    },
    {
      name: 'two TCPRoutes on one listener: the older is attached, the newer is refused',
      input: {
        routes: [
          tcpRoute('newer', {
            parents: [{ name: 'shared', sectionName: 'a' }],
            backends: [{ name: 'tcp-a', port: 8080 }],
            created: '2026-12-01T10:00:00Z',
          }),
          tcpRoute('older', {
            parents: [{ name: 'shared', sectionName: 'a' }],
            backends: [{ name: 'tcp-b', port: 9000 }],
            created: '2026-12-01T09:00:00Z',
          }),
        ],
      },
      route: ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs'],
      listener: ['a', 1, LISTENER_OK],
    },
    {
      name: 'an HTTP listener: Accepted=False UnsupportedProtocol; the Gateway says ListenersNotValid',
      input: { gateway: gateway([listener('web', 'HTTP', 80), listener('a', 'TCP', 8080)]) },
      gw: ['Accepted=True/ListenersNotValid', 'Programmed=True/Programmed'],
      listener: [
        'web',
        0,
        [
          'Accepted=False/UnsupportedProtocol',
          'ResolvedRefs=True/ResolvedRefs',
          'Conflicted=False/NoConflicts',
          'Programmed=False/Invalid',
        ],
      ],
    },
    {
      name: 'a TLS listener whose certificateRef is not an ACM ARN: InvalidCertificateRef',
      input: {
        gateway: gateway([
          listener('tls', 'TLS', 443, { tls: { mode: 'Terminate', certificateRefs: [{ name: 'my-secret' }] } }),
        ]),
      },
      listener: [
        'tls',
        0,
        [
          'ResolvedRefs=False/InvalidCertificateRef',
          'Accepted=True/Accepted',
          'Conflicted=False/NoConflicts',
          'Programmed=False/Invalid',
        ],
      ],
    },
    {
      name: 'a TLS listener with an ACM certificate takes a TLSRoute whose hostname matches',
      input: {
        gateway: gateway([
          listener('tls', 'TLS', 443, {
            hostname: '*.example.com',
            tls: { mode: 'Terminate', certificateRefs: [{ name: ACM }] },
          }),
        ]),
        routes: [tlsRoute('t', { hostnames: ['api.example.com'], backends: [{ name: 'tcp-a', port: 8080 }] })],
      },
      route: ROUTE_OK,
      listener: ['tls', 1, LISTENER_OK],
    },
    {
      name: 'a TLSRoute whose hostnames miss the listener hostname: NoMatchingListenerHostname',
      input: {
        gateway: gateway([
          listener('tls', 'TLS', 443, {
            hostname: '*.example.com',
            tls: { mode: 'Terminate', certificateRefs: [{ name: ACM }] },
          }),
        ]),
        routes: [tlsRoute('t', { hostnames: ['api.example.org'], backends: [{ name: 'tcp-a', port: 8080 }] })],
      },
      route: ['Accepted=False/NoMatchingListenerHostname', 'ResolvedRefs=True/ResolvedRefs'],
    },
    {
      name: 'spec.addresses: Accepted=False UnsupportedAddress, Programmed=False AddressNotUsable',
      input: { gateway: { ...three, spec: { ...three.spec, addresses: [{ type: 'IPAddress', value: '10.0.0.1' }] } } },
      gw: ['Accepted=False/UnsupportedAddress', 'Programmed=False/AddressNotUsable'],
    },
    {
      name: 'NLB still being made: Programmed=False Pending, listeners Pending',
      input: {},
      outcome: { pending: 'waiting' },
      gw: ['Accepted=True/Accepted', 'Programmed=False/Pending'],
      listener: [
        'a',
        0,
        [
          'Accepted=True/Accepted',
          'ResolvedRefs=True/ResolvedRefs',
          'Conflicted=False/NoConflicts',
          'Programmed=False/Pending',
        ],
      ],
    },
    {
      name: 'NLB cannot be built: Programmed=False Invalid',
      input: {},
      outcome: { error: 'bad annotation' },
      gw: ['Accepted=True/Accepted', 'Programmed=False/Invalid'],
    },
    {
      name: 'TCP and TLS on one port: both Conflicted ProtocolConflict',
      input: {
        gateway: gateway([listener('a', 'TCP', 443), listener('t', 'TLS', 443, { tls: { mode: 'Passthrough' } })]),
      },
      listener: [
        'a',
        0,
        [
          'Conflicted=True/ProtocolConflict',
          'Accepted=True/Accepted',
          'ResolvedRefs=True/ResolvedRefs',
          'Programmed=False/Invalid',
        ],
      ],
    },
    {
      name: 'TCP and UDP on one port do not conflict (one TCP_UDP NLB listener)',
      input: { gateway: gateway([listener('t', 'TCP', 53), listener('u', 'UDP', 53)]) },
      listener: ['u', 0, LISTENER_OK],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = run(c.input, c.outcome);
      // The route under test is the last one attached (routes are taken oldest first).
      if (c.route) expect(Object.values(r.routes).at(-1)).toEqual([c.route]);
      if (c.gw) expect(brief(r.gs.conditions)).toEqual(c.gw);
      if (c.listener) expect(r.listeners[c.listener[0]]).toEqual({ attached: c.listener[1], conds: c.listener[2] });
    });
  }

  it('GatewayClass: Accepted, or InvalidParameters with a parametersRef', () => {
    expect(brief(gatewayClassStatus(gatewayClass(), NOW).conditions)).toEqual(['Accepted=True/Accepted']);
    const withParams = gatewayClass('p', { parametersRef: { group: 'example.com', kind: 'Config', name: 'c' } });
    expect(brief(gatewayClassStatus(withParams, NOW).conditions)).toEqual(['Accepted=False/InvalidParameters']);
  });

  it('lastTransitionTime moves only when a condition status changes', () => {
    const first = gatewayStatus(
      three,
      attach({ gateway: three, routes: [], services: svcs, grants: [], namespaces: [] }),
      { pending: 'x' },
      NOW,
    );
    const again = { ...three, status: first };
    const later = '2026-12-02T01:00:00.000Z';
    const same = gatewayStatus(
      again,
      attach({ gateway: again, routes: [], services: svcs, grants: [], namespaces: [] }),
      { pending: 'x' },
      later,
    );
    expect(same.conditions!.map((c) => c.lastTransitionTime)).toEqual([NOW, NOW]);
    const done = gatewayStatus(
      again,
      attach({ gateway: again, routes: [], services: svcs, grants: [], namespaces: [] }),
      ok,
      later,
    );
    expect(done.conditions!.map((c) => c.lastTransitionTime)).toEqual([NOW, later]);
  });

  it("route status keeps other controllers' parents and drops ours for parentRefs no longer in the spec", () => {
    const r = tcpRoute('x', {
      parents: [{ name: 'shared', sectionName: 'a' }],
      backends: [{ name: 'tcp-a', port: 8080 }],
    });
    r.route.status = {
      parents: [
        { parentRef: { name: 'other-gw' }, controllerName: 'example.com/other', conditions: [] },
        { parentRef: { name: 'old-gw' }, controllerName: GATEWAY_CONTROLLER_NAME, conditions: [] },
      ],
    };
    const a = attach({ gateway: three, routes: [r], services: svcs, grants: [], namespaces: [] });
    const parents = routeParents(r.route, three, a.routes.get('TCPRoute/default/x')!, NOW)!;
    expect(parents.map((p) => `${p.controllerName} ${p.parentRef.name}/${p.parentRef.sectionName ?? ''}`)).toEqual([
      'example.com/other other-gw/',
      `${GATEWAY_CONTROLLER_NAME} shared/a`,
    ]);
  });
});

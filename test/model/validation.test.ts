import { describe, expect, it } from 'vitest';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { defaultEndpoints, defaultPod, defaultService, defaultServiceUpdate } from '../../lib/model/defaults.js';
import { aggregateMessage, formatFieldError, throwIfInvalid } from '../../lib/model/field-errors.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { validateEndpoints, validatePod, validateService, validateServiceUpdate } from '../../lib/model/validation.js';
import { InvalidError } from '../../lib/errors.js';

const cfg = DEFAULT_CLUSTER_CONFIG;

/** Messages for a manifest as the API server would produce them: defaulted first, then validated. */
const messages = (svc: V1Service): string[] => validateService(defaultService(svc), cfg).map(formatFieldError);

const svc = (spec: V1Service['spec'], metadata: V1Service['metadata'] = { name: 'web' }): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata,
  spec,
});
const port80 = [{ port: 80 }];
const sel = { app: 'web' };

// The API server's texts, spelled out here independently of lib/model/names.ts.
const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const PORT_RANGE = 'must be between 1 and 65535, inclusive';
const NODE_PORT_RANGE = 'provided port is not in the valid range. The range of valid ports is 30000-32767';
const BAD_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
const BAD_CIDR = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';
const ONLY_LB = "may only be used when `type` is 'LoadBalancer'";
const SRC_ANN = 'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]';

type Case = [name: string, input: V1Service, expected: string[]];

const valid: Case[] = [
  [
    'hellok8s NodePort seed',
    svc(
      { type: 'NodePort', selector: { app: 'hellok8s' }, ports: [{ port: 4567, nodePort: 30001 }] },
      { name: 'service-hellok8s-nodeport' },
    ),
    [],
  ],
  [
    'nginx ClusterIP seed with two named ports',
    svc({
      selector: { app: 'nginx' },
      ports: [
        { name: 'http', port: 8080, targetPort: 80 },
        { name: 'https', port: 8443, targetPort: 443 },
      ],
    }),
    [],
  ],
  ['ExternalName seed', svc({ type: 'ExternalName', externalName: 'my-db.company.com' }, { name: 'service-db' }), []],
  [
    'ExternalName with a trailing dot (fully qualified CNAME)',
    svc({ type: 'ExternalName', externalName: 'my-db.company.com.' }),
    [],
  ],
  ['headless with selector and no ports', svc({ clusterIP: 'None', selector: sel }), []],
  ['headless without selector (RequireDualStack default is allowed)', svc({ clusterIP: 'None' }), []],
  ['plain LoadBalancer', svc({ type: 'LoadBalancer', selector: sel, ports: port80 }), []],
  ['ClientIP affinity with defaulted timeout', svc({ selector: sel, ports: port80, sessionAffinity: 'ClientIP' }), []],
  [
    'ClientIP affinity with the maximum timeout',
    svc({
      selector: sel,
      ports: port80,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } },
    }),
    [],
  ],
  ['named targetPort', svc({ selector: sel, ports: [{ port: 80, targetPort: 'http-web' }] }), []],
  [
    'same port on TCP and UDP',
    svc({
      selector: sel,
      ports: [
        { name: 'dns-tcp', port: 53 },
        { name: 'dns-udp', port: 53, protocol: 'UDP' },
      ],
    }),
    [],
  ],
  [
    'same nodePort on different protocols',
    svc({
      type: 'NodePort',
      selector: sel,
      ports: [
        { name: 'a', port: 53, nodePort: 30053 },
        { name: 'b', port: 53, protocol: 'UDP', nodePort: 30053 },
      ],
    }),
    [],
  ],
  [
    'LoadBalancer with source ranges (space padded, IPv6 too)',
    svc({
      type: 'LoadBalancer',
      selector: sel,
      ports: port80,
      loadBalancerSourceRanges: [' 10.0.0.0/8', '2001:db8::/32'],
    }),
    [],
  ],
  [
    'LoadBalancer Local with a healthCheckNodePort',
    svc({
      type: 'LoadBalancer',
      selector: sel,
      ports: port80,
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 30100,
    }),
    [],
  ],
  ['requested clusterIP inside the service CIDR', svc({ selector: sel, ports: port80, clusterIP: '10.96.0.10' }), []],
  [
    'ClusterIP with externalIPs and externalTrafficPolicy Local',
    svc({ selector: sel, ports: port80, externalIPs: ['203.0.113.5'], externalTrafficPolicy: 'Local' }),
    [],
  ],
  ['internalTrafficPolicy Local', svc({ selector: sel, ports: port80, internalTrafficPolicy: 'Local' }), []],
  [
    'prefixed label key',
    svc(
      { selector: { 'example.com/app': 'web' }, ports: port80 },
      { name: 'web', labels: { 'example.com/tier': 'frontend' } },
    ),
    [],
  ],
  ['63-character name', svc({ selector: sel, ports: port80 }, { name: 'a'.repeat(63) }), []],
  ['SCTP', svc({ selector: sel, ports: [{ port: 9999, protocol: 'SCTP' }] }), []],
  [
    'appProtocol as a prefixed name',
    svc({ selector: sel, ports: [{ port: 80, appProtocol: 'kubernetes.io/h2c' }] }),
    [],
  ],
  [
    'sessionAffinityConfig with None is cleared by defaulting',
    svc({
      selector: sel,
      ports: port80,
      sessionAffinity: 'None',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } },
    }),
    [],
  ],
];

const invalidCases: Case[] = [
  [
    'name not a DNS-1035 label',
    svc({ selector: sel, ports: port80 }, { name: 'My_Svc' }),
    [`metadata.name: Invalid value: "My_Svc": ${DNS1035}`],
  ],
  [
    'name starting with a digit',
    svc({ selector: sel, ports: port80 }, { name: '1web' }),
    [`metadata.name: Invalid value: "1web": ${DNS1035}`],
  ],
  [
    '64-character name',
    svc({ selector: sel, ports: port80 }, { name: 'a'.repeat(64) }),
    [`metadata.name: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`],
  ],
  [
    'missing name',
    svc({ selector: sel, ports: port80 }, {}),
    ['metadata.name: Required value: name or generateName is required'],
  ],
  [
    'namespace not a DNS-1123 label',
    svc({ selector: sel, ports: port80 }, { name: 'web', namespace: 'Bad_NS' }),
    [`metadata.namespace: Invalid value: "Bad_NS": ${DNS1123_LABEL}`],
  ],
  [
    'namespace with dots',
    svc({ selector: sel, ports: port80 }, { name: 'web', namespace: 'a.b' }),
    ['metadata.namespace: Invalid value: "a.b": must not contain dots'],
  ],
  [
    'bad label key',
    svc({ selector: sel, ports: port80 }, { name: 'web', labels: { '-bad': 'x' } }),
    [`metadata.labels: Invalid value: "-bad": ${QUALIFIED_NAME_PART}`],
  ],
  [
    'label value too long',
    svc({ selector: sel, ports: port80 }, { name: 'web', labels: { app: 'v'.repeat(64) } }),
    [`metadata.labels: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`],
  ],
  [
    'label key with an upper-case prefix',
    svc({ selector: sel, ports: port80 }, { name: 'web', labels: { 'Example.com/x': 'y' } }),
    [`metadata.labels: Invalid value: "Example.com/x": prefix part ${DNS1123_SUBDOMAIN}`],
  ],
  [
    'annotation key with two slashes',
    svc({ selector: sel, ports: port80 }, { name: 'web', annotations: { 'a/b/c': 'x' } }),
    [
      "metadata.annotations: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ],
  ],
  [
    'annotations over 256 KiB',
    svc({ selector: sel, ports: port80 }, { name: 'web', annotations: { big: 'x'.repeat(262144) } }),
    ['metadata.annotations: Too long: may not be more than 262144 bytes'],
  ],
  [
    'unsupported type',
    svc({ type: 'Foo', selector: sel, ports: port80 }),
    ['spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'],
  ],
  ['ports missing', svc({ selector: sel }), ['spec.ports: Required value']],
  [
    'port 0 (and the targetPort it defaults)',
    svc({ selector: sel, ports: [{ port: 0 }] }),
    [
      `spec.ports[0].port: Invalid value: 0: ${PORT_RANGE}`,
      `spec.ports[0].targetPort: Invalid value: 0: ${PORT_RANGE}`,
    ],
  ],
  [
    'port 65536',
    svc({ selector: sel, ports: [{ port: 65536, targetPort: 80 }] }),
    [`spec.ports[0].port: Invalid value: 65536: ${PORT_RANGE}`],
  ],
  [
    'unsupported protocol',
    svc({ selector: sel, ports: [{ port: 80, protocol: 'HTTP' }] }),
    ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
  ],
  [
    'duplicate port names',
    svc({
      selector: sel,
      ports: [
        { name: 'http', port: 80 },
        { name: 'http', port: 81 },
      ],
    }),
    ['spec.ports[1].name: Duplicate value: "http"'],
  ],
  [
    'second port unnamed',
    svc({ selector: sel, ports: [{ name: 'http', port: 80 }, { port: 81 }] }),
    ['spec.ports[1].name: Required value'],
  ],
  [
    'port name not a DNS-1123 label',
    svc({ selector: sel, ports: [{ name: 'HTTP', port: 80 }] }),
    [`spec.ports[0].name: Invalid value: "HTTP": ${DNS1123_LABEL}`],
  ],
  [
    'duplicate port and protocol',
    svc({
      selector: sel,
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 80, targetPort: 8080 },
      ],
    }),
    ['spec.ports[1]: Duplicate value: {"protocol":"TCP","port":80}'],
  ],
  [
    'targetPort name longer than 15',
    svc({ selector: sel, ports: [{ port: 80, targetPort: 'abcdefghijklmnop' }] }),
    ['spec.ports[0].targetPort: Invalid value: "abcdefghijklmnop": must be no more than 15 characters'],
  ],
  [
    'targetPort name with consecutive hyphens',
    svc({ selector: sel, ports: [{ port: 80, targetPort: 'http--x' }] }),
    ['spec.ports[0].targetPort: Invalid value: "http--x": must not contain consecutive hyphens'],
  ],
  [
    'targetPort name with a leading hyphen',
    svc({ selector: sel, ports: [{ port: 80, targetPort: '-http' }] }),
    ['spec.ports[0].targetPort: Invalid value: "-http": must not begin or end with a hyphen'],
  ],
  [
    'targetPort as a numeric string',
    svc({ selector: sel, ports: [{ port: 80, targetPort: '8080' }] }),
    ['spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)'],
  ],
  [
    'targetPort name with upper case',
    svc({ selector: sel, ports: [{ port: 80, targetPort: 'Http' }] }),
    [
      'spec.ports[0].targetPort: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ],
  ],
  [
    'targetPort number out of range',
    svc({ selector: sel, ports: [{ port: 80, targetPort: 70000 }] }),
    [`spec.ports[0].targetPort: Invalid value: 70000: ${PORT_RANGE}`],
  ],
  [
    'nodePort on a ClusterIP Service',
    svc({ selector: sel, ports: [{ port: 80, nodePort: 30080 }] }),
    ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
  ],
  [
    'nodePort below the range',
    svc({ type: 'NodePort', selector: sel, ports: [{ port: 80, nodePort: 29999 }] }),
    [`spec.ports[0].nodePort: Invalid value: 29999: ${NODE_PORT_RANGE}`],
  ],
  [
    'nodePort above the range (LoadBalancer)',
    svc({ type: 'LoadBalancer', selector: sel, ports: [{ port: 80, nodePort: 32768 }] }),
    [`spec.ports[0].nodePort: Invalid value: 32768: ${NODE_PORT_RANGE}`],
  ],
  [
    'duplicate nodePort on one protocol',
    svc({
      type: 'NodePort',
      selector: sel,
      ports: [
        { name: 'a', port: 80, nodePort: 30080 },
        { name: 'b', port: 81, nodePort: 30080 },
      ],
    }),
    ['spec.ports[1].nodePort: Duplicate value: 30080'],
  ],
  [
    'headless NodePort',
    svc({ type: 'NodePort', clusterIP: 'None', selector: sel, ports: port80 }),
    ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'],
  ],
  [
    'headless LoadBalancer',
    svc({ type: 'LoadBalancer', clusterIP: 'None', selector: sel, ports: port80 }),
    ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for LoadBalancer services'],
  ],
  ['ExternalName without externalName', svc({ type: 'ExternalName' }), ['spec.externalName: Required value']],
  [
    'ExternalName not a DNS subdomain',
    svc({ type: 'ExternalName', externalName: 'my_db.company.com' }),
    [`spec.externalName: Invalid value: "my_db.company.com": ${DNS1123_SUBDOMAIN}`],
  ],
  [
    'ExternalName with a clusterIP',
    svc({ type: 'ExternalName', externalName: 'db.example.com', clusterIP: '10.96.0.5' }),
    ['spec.clusterIPs: Forbidden: may not be set for ExternalName services'],
  ],
  [
    'ExternalName with ipFamilies',
    svc({ type: 'ExternalName', externalName: 'db.example.com', ipFamilies: ['IPv4'] }),
    ['spec.ipFamilies: Forbidden: may not be set for ExternalName services'],
  ],
  [
    'source ranges on a ClusterIP Service',
    svc({ selector: sel, ports: port80, loadBalancerSourceRanges: ['10.0.0.0/8'] }),
    [`spec.LoadBalancerSourceRanges: Forbidden: ${ONLY_LB}`],
  ],
  [
    'bad source range',
    svc({ type: 'LoadBalancer', selector: sel, ports: port80, loadBalancerSourceRanges: ['10.0.0.0/33'] }),
    [`spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0/33": ${BAD_CIDR}`],
  ],
  [
    'source-ranges annotation on a NodePort Service',
    svc(
      { type: 'NodePort', selector: sel, ports: port80 },
      { name: 'web', annotations: { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8, bogus' } },
    ),
    [`${SRC_ANN}: Forbidden: ${ONLY_LB}`, `${SRC_ANN}: Invalid value: "bogus": ${BAD_CIDR}`],
  ],
  [
    'unsupported session affinity',
    svc({ selector: sel, ports: port80, sessionAffinity: 'Sticky' }),
    ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'],
  ],
  [
    'affinity timeout 0',
    svc({
      selector: sel,
      ports: port80,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
    }),
    [
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
    ],
  ],
  [
    'affinity timeout over a day',
    svc({
      selector: sel,
      ports: port80,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } },
    }),
    [
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400',
    ],
  ],
  [
    'externalTrafficPolicy on an internal Service',
    svc({ selector: sel, ports: port80, externalTrafficPolicy: 'Local' }),
    ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'],
  ],
  [
    'unsupported externalTrafficPolicy',
    svc({ type: 'NodePort', selector: sel, ports: port80, externalTrafficPolicy: 'Global' }),
    ['spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local"'],
  ],
  [
    'unsupported internalTrafficPolicy',
    svc({ selector: sel, ports: port80, internalTrafficPolicy: 'Node' }),
    ['spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"'],
  ],
  [
    'healthCheckNodePort without LoadBalancer+Local',
    svc({ type: 'NodePort', selector: sel, ports: port80, healthCheckNodePort: 30100 }),
    [
      "spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    ],
  ],
  [
    'healthCheckNodePort outside the node-port range',
    svc({
      type: 'LoadBalancer',
      selector: sel,
      ports: port80,
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 20000,
    }),
    [`spec.healthCheckNodePort: Invalid value: 20000: ${NODE_PORT_RANGE}`],
  ],
  [
    'healthCheckNodePort not a port',
    svc({
      type: 'LoadBalancer',
      selector: sel,
      ports: port80,
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 70000,
    }),
    [`spec.healthCheckNodePort: Invalid value: 70000: ${PORT_RANGE}`],
  ],
  [
    'selector key with a space',
    svc({ selector: { 'app name': 'web' }, ports: port80 }),
    [`spec.selector: Invalid value: "app name": ${QUALIFIED_NAME_PART}`],
  ],
  [
    'selector value with a space',
    svc({ selector: { app: 'a b' }, ports: port80 }),
    [`spec.selector: Invalid value: "a b": ${LABEL_VALUE}`],
  ],
  [
    'externalIP not an IP',
    svc({ selector: sel, ports: port80, externalIPs: ['not-an-ip'] }),
    [`spec.externalIPs[0]: Invalid value: "not-an-ip": ${BAD_IP}`],
  ],
  [
    'externalIP loopback',
    svc({ selector: sel, ports: port80, externalIPs: ['127.0.0.1'] }),
    ['spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
  ],
  [
    'externalIP link-local (instance metadata)',
    svc({ selector: sel, ports: port80, externalIPs: ['169.254.169.254'] }),
    [
      'spec.externalIPs[0]: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    ],
  ],
  [
    'externalIP unspecified',
    svc({ selector: sel, ports: port80, externalIPs: ['0.0.0.0'] }),
    ['spec.externalIPs[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)'],
  ],
  [
    'clusterIP not an IP',
    svc({ selector: sel, ports: port80, clusterIP: '10.96.0.300' }),
    [`spec.clusterIPs[0]: Invalid value: "10.96.0.300": ${BAD_IP}`],
  ],
  [
    'clusterIP outside the service CIDR',
    svc({ selector: sel, ports: port80, clusterIP: '10.0.0.5' }),
    [
      'spec.clusterIPs: Invalid value: ["10.0.0.5"]: failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    ],
  ],
  [
    'clusterIP is the network address',
    svc({ selector: sel, ports: port80, clusterIP: '10.96.0.0' }),
    [
      'spec.clusterIPs: Invalid value: ["10.96.0.0"]: failed to allocate IP 10.96.0.0: the provided IP (10.96.0.0) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    ],
  ],
  [
    'clusterIPs not matching clusterIP',
    svc({ selector: sel, ports: port80, clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.11'] }),
    ['spec.clusterIPs: Invalid value: ["10.96.0.11"]: first value must match `clusterIP`'],
  ],
  [
    'clusterIPs without clusterIP',
    svc({ selector: sel, ports: port80, clusterIPs: ['10.96.0.11'] }),
    ['spec.clusterIPs: Invalid value: ["10.96.0.11"]: must be empty when `clusterIP` is not specified'],
  ],
  [
    'IPv6 family on an IPv4 cluster',
    svc({ selector: sel, ports: port80, ipFamilies: ['IPv6'] }),
    ['spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster'],
  ],
  [
    'RequireDualStack on a single-stack cluster',
    svc({ selector: sel, ports: port80, ipFamilyPolicy: 'RequireDualStack' }),
    ['spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'],
  ],
  [
    'unsupported ipFamilyPolicy',
    svc({ selector: sel, ports: port80, ipFamilyPolicy: 'Dual' }),
    [
      'spec.ipFamilyPolicy: Unsupported value: "Dual": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"',
    ],
  ],
  [
    'unsupported ipFamily',
    svc({ selector: sel, ports: port80, ipFamilies: ['IPv5'] }),
    ['spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"'],
  ],
  [
    'allocateLoadBalancerNodePorts on NodePort',
    svc({ type: 'NodePort', selector: sel, ports: port80, allocateLoadBalancerNodePorts: false }),
    [`spec.allocateLoadBalancerNodePorts: Forbidden: ${ONLY_LB}`],
  ],
  [
    'loadBalancerClass on ClusterIP',
    svc({ selector: sel, ports: port80, loadBalancerClass: 'example.com/lb' }),
    [`spec.loadBalancerClass: Forbidden: ${ONLY_LB}`],
  ],
  [
    'loadBalancerClass not a qualified name',
    svc({ type: 'LoadBalancer', selector: sel, ports: port80, loadBalancerClass: 'bad class' }),
    [`spec.loadBalancerClass: Invalid value: "bad class": ${QUALIFIED_NAME_PART}`],
  ],
  [
    'appProtocol not a qualified name',
    svc({ selector: sel, ports: [{ port: 80, appProtocol: 'a b' }] }),
    [`spec.ports[0].appProtocol: Invalid value: "a b": ${QUALIFIED_NAME_PART}`],
  ],
  [
    'unsupported trafficDistribution',
    svc({ selector: sel, ports: port80, trafficDistribution: 'Nearest' }),
    [
      'spec.trafficDistribution: Unsupported value: "Nearest": supported values: "PreferClose", "PreferSameNode", "PreferSameZone"',
    ],
  ],
];

describe('validateService (table: exact API-server messages)', () => {
  it('has at least 60 cases', () => {
    expect(valid.length + invalidCases.length).toBeGreaterThanOrEqual(60);
  });
  it.each(valid)('valid: %s', (_n, input, expected) => {
    expect(messages(input)).toEqual(expected);
  });
  it.each(invalidCases)('invalid: %s', (_n, input, expected) => {
    expect(messages(input)).toEqual(expected);
  });

  it('aggregates several errors the way kubectl shows them', () => {
    const input = defaultService(
      svc(
        { type: 'NodePort', selector: sel, ports: [{ port: 80, nodePort: 29999 }, { port: 81 }] },
        { name: 'My_Svc' },
      ),
    );
    const errs = validateService(input, cfg);
    expect(aggregateMessage('Service', 'My_Svc', errs)).toBe(
      `Service "My_Svc" is invalid: [metadata.name: Invalid value: "My_Svc": ${DNS1035}, spec.ports[0].name: Required value, spec.ports[1].name: Required value, spec.ports[0].nodePort: Invalid value: 29999: ${NODE_PORT_RANGE}]`,
    );
    expect(() => throwIfInvalid('Service', 'My_Svc', errs)).toThrow(InvalidError);
  });

  it('appends load-balancer annotation errors for LoadBalancer Services only', () => {
    const ann = { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'public' };
    const lb = messages(svc({ type: 'LoadBalancer', selector: sel, ports: port80 }, { name: 'web', annotations: ann }));
    expect(lb.length).toBeGreaterThan(0);
    expect(
      lb.every((m) => m.startsWith('metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-scheme]: ')),
    ).toBe(true);
    expect(
      messages(svc({ type: 'NodePort', selector: sel, ports: port80 }, { name: 'web', annotations: ann })),
    ).toEqual([]);
  });

  it('requires the healthCheckNodePort only once allocated', () => {
    const lbLocal = defaultService(
      svc({ type: 'LoadBalancer', selector: sel, ports: port80, externalTrafficPolicy: 'Local' }),
    );
    expect(validateService(lbLocal, cfg)).toEqual([]);
    expect(validateService(lbLocal, cfg, { allocated: true }).map(formatFieldError)).toEqual([
      'spec.healthCheckNodePort: Required value',
    ]);
  });

  it('uses the cluster node-port range from ClusterConfig', () => {
    const custom = { ...cfg, nodePortRange: { min: 20000, max: 20100 } };
    const s = defaultService(svc({ type: 'NodePort', selector: sel, ports: [{ port: 80, nodePort: 30001 }] }));
    expect(validateService(s, custom).map(formatFieldError)).toEqual([
      'spec.ports[0].nodePort: Invalid value: 30001: provided port is not in the valid range. The range of valid ports is 20000-20100',
    ]);
  });

  it('reports missing defaults on a non-defaulted object', () => {
    const raw = svc({ selector: sel, ports: [{ port: 80, targetPort: 80 }] }, { name: 'web', namespace: 'default' });
    expect(validateService(raw, cfg).map(formatFieldError)).toEqual([
      'spec.ports[0].protocol: Required value',
      'spec.sessionAffinity: Required value',
      'spec.type: Required value',
    ]);
  });
});

describe('validateServiceUpdate', () => {
  const stored = (s: V1Service): V1Service => {
    const d = defaultService(s);
    d.spec!.clusterIP = '10.96.0.20';
    d.spec!.clusterIPs = ['10.96.0.20'];
    for (const p of d.spec!.ports ?? [])
      if (d.spec!.type === 'NodePort' || d.spec!.type === 'LoadBalancer') p.nodePort ??= 30500;
    return d;
  };
  const update = (next: V1Service, old: V1Service) =>
    validateServiceUpdate(defaultServiceUpdate(next, old), old, cfg).map(formatFieldError);

  it('re-applying the same manifest (without allocated values) is valid and keeps them', () => {
    const manifest = svc({ type: 'NodePort', selector: sel, ports: port80 });
    const old = stored(manifest);
    const next = defaultServiceUpdate(manifest, old);
    expect(next.spec?.clusterIP).toBe('10.96.0.20');
    expect(next.spec?.clusterIPs).toEqual(['10.96.0.20']);
    expect(next.spec?.ports?.[0]?.nodePort).toBe(30500);
    expect(validateServiceUpdate(next, old, cfg)).toEqual([]);
  });

  it('refuses changing the clusterIP', () => {
    const old = stored(svc({ selector: sel, ports: port80 }));
    expect(update(svc({ selector: sel, ports: port80, clusterIP: '10.96.0.21' }), old)).toEqual([
      'spec.clusterIPs[0]: Invalid value: ["10.96.0.21"]: may not change once set',
    ]);
  });

  it('allows switching to ExternalName and drops the clusterIP and families', () => {
    const old = stored(svc({ selector: sel, ports: port80 }));
    const next = defaultServiceUpdate(
      svc({ type: 'ExternalName', externalName: 'db.example.com', ports: port80 }),
      old,
    );
    expect(next.spec?.clusterIP).toBeUndefined();
    expect(next.spec?.ipFamilies).toBeUndefined();
    expect(next.spec?.internalTrafficPolicy).toBeUndefined();
    expect(validateServiceUpdate(next, old, cfg)).toEqual([]);
  });

  it('allows switching from ExternalName to ClusterIP', () => {
    const old = defaultService(svc({ type: 'ExternalName', externalName: 'db.example.com' }));
    expect(update(svc({ selector: sel, ports: port80 }), old)).toEqual([]);
  });

  it('drops nodePorts when going from NodePort to ClusterIP', () => {
    const old = stored(svc({ type: 'NodePort', selector: sel, ports: port80 }));
    const next = structuredClone(old);
    next.spec!.type = 'ClusterIP';
    const prepared = defaultServiceUpdate(next, old);
    expect(prepared.spec?.ports?.[0]?.nodePort).toBeUndefined();
    expect(prepared.spec?.externalTrafficPolicy).toBeUndefined();
    expect(validateServiceUpdate(prepared, old, cfg)).toEqual([]);
  });

  it('keeps a nodePort the user explicitly sets when switching to ClusterIP, and refuses it', () => {
    const old = stored(svc({ type: 'NodePort', selector: sel, ports: port80 }));
    expect(update(svc({ selector: sel, ports: [{ port: 80, nodePort: 30999 }] }), old)).toEqual([
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
  });

  it('refuses renaming and moving between namespaces', () => {
    const old = stored(svc({ selector: sel, ports: port80 }));
    expect(update(svc({ selector: sel, ports: port80 }, { name: 'other' }), old)).toEqual([
      'metadata.name: Invalid value: "other": field is immutable',
    ]);
    expect(update(svc({ selector: sel, ports: port80 }, { name: 'web', namespace: 'prod' }), old)).toEqual([
      'metadata.namespace: Invalid value: "prod": field is immutable',
    ]);
  });

  it('refuses changing loadBalancerClass and healthCheckNodePort', () => {
    const old = stored(
      svc({
        type: 'LoadBalancer',
        selector: sel,
        ports: port80,
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 30100,
        loadBalancerClass: 'example.com/a',
      }),
    );
    expect(
      update(
        svc({
          type: 'LoadBalancer',
          selector: sel,
          ports: port80,
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 30101,
          loadBalancerClass: 'example.com/b',
        }),
        old,
      ),
    ).toEqual([
      'spec.loadBalancerClass: Invalid value: "example.com/b": may not change once set',
      'spec.healthCheckNodePort: Forbidden: field is immutable',
    ]);
  });
});

describe('validatePod', () => {
  const pod = (p: Partial<V1Pod>): V1Pod =>
    defaultPod({
      metadata: { name: 'web-1', labels: sel },
      spec: { containers: [{ name: 'app', image: 'nginx' }] },
      ...p,
    });
  const msgs = (p: V1Pod) => validatePod(p).map(formatFieldError);

  it('accepts a normal Pod', () => {
    expect(
      msgs(
        pod({
          spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 80 }] }] },
          status: { podIP: '10.0.1.5' },
        }),
      ),
    ).toEqual([]);
  });
  it.each([
    [
      'bad port name',
      { name: 'HTTP', containerPort: 80 },
      [
        'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
      ],
    ],
    ['containerPort 0', { containerPort: 0 }, ['spec.containers[0].ports[0].containerPort: Required value']],
    [
      'containerPort 70000',
      { containerPort: 70000 },
      [`spec.containers[0].ports[0].containerPort: Invalid value: 70000: ${PORT_RANGE}`],
    ],
    [
      'bad protocol',
      { containerPort: 80, protocol: 'ICMP' },
      ['spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
    ],
  ] as const)('refuses a container port with %s', (_n, port, expected) => {
    expect(msgs(pod({ spec: { containers: [{ name: 'app', ports: [{ ...port }] }] } }))).toEqual(expected);
  });
  it('refuses duplicate port names across containers', () => {
    expect(
      msgs(
        pod({
          spec: {
            containers: [
              { name: 'a', ports: [{ name: 'http', containerPort: 80 }] },
              { name: 'b', ports: [{ name: 'http', containerPort: 81 }] },
            ],
          },
        }),
      ),
    ).toEqual(['spec.containers[1].ports[0].name: Duplicate value: "http"']);
  });
  it('refuses a bad name, no containers and a bad podIP', () => {
    expect(msgs(pod({ metadata: { name: 'Web_1' }, spec: { containers: [] }, status: { podIP: '10.0.1' } }))).toEqual([
      `metadata.name: Invalid value: "Web_1": ${DNS1123_SUBDOMAIN}`,
      'spec.containers: Required value',
      `status.podIP: Invalid value: "10.0.1": ${BAD_IP}`,
    ]);
  });
});

describe('validateEndpoints', () => {
  const ep = (subsets: V1Endpoints['subsets']): V1Endpoints => defaultEndpoints({ metadata: { name: 'db' }, subsets });
  const msgs = (e: V1Endpoints) => validateEndpoints(e).map(formatFieldError);

  it('accepts manual endpoints', () => {
    expect(msgs(ep([{ addresses: [{ ip: '10.0.5.10' }], ports: [{ port: 5432 }] }]))).toEqual([]);
  });
  it('refuses special and malformed addresses, bad ports and empty subsets', () => {
    expect(
      msgs(
        ep([
          { addresses: [{ ip: '127.0.0.1' }, { ip: 'x' }], ports: [{ port: 5432 }, { name: 'b', port: 0 }] },
          { ports: [{ port: 1 }] },
        ]),
      ),
    ).toEqual([
      'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      `subsets[0].addresses[1].ip: Invalid value: "x": ${BAD_IP}`,
      'subsets[0].ports[0].name: Required value',
      `subsets[0].ports[1].port: Invalid value: 0: ${PORT_RANGE}`,
      'subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`',
    ]);
  });
});

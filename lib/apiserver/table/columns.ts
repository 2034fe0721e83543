/**
 * Table column definitions per kind, as kube-apiserver registers them (pkg/printers/internalversion AddHandlers):
 * same names, types, formats and priorities (priority 1 columns are shown by `kubectl get -o wide` only). The
 * server always computes every column; kubectl hides the priority-1 ones.
 */

export interface ColumnDefinition {
  name: string;
  /** `date`: a custom resource's date printer column (cells are ages). */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

const col = (name: string, description: string, extra: Partial<ColumnDefinition> = {}): ColumnDefinition => ({
  name,
  type: 'string',
  format: '',
  description,
  priority: 0,
  ...extra,
});

const NAME = col('Name', 'Name must be unique within a namespace.', { format: 'name' });
const AGE = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const wide = { priority: 1 };
/**
 * Not upstream's: the fixed monthly list price of the object's own NLB (lib/model/pricing.ts), -o wide only; the
 * Service and the Gateway tables share it.
 */
export const LB_COST = col(
  'LB-Cost/Mo',
  "Fixed monthly cost of this object's own Network Load Balancer at AWS list prices (730 h; NLCU usage not included).",
  wide,
);

export const COLUMNS: Record<string, ColumnDefinition[]> = {
  Service: [
    NAME,
    col('Type', 'type determines how the Service is exposed.'),
    col('Cluster-IP', 'clusterIP is the IP address of the service.'),
    col('External-IP', 'externalIPs and load-balancer ingress points of the service.'),
    col('Port(s)', 'The list of ports that are exposed by this service.'),
    AGE,
    col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', wide),
    LB_COST,
  ],
  Pod: [
    NAME,
    col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'The aggregate status of the containers in this pod.'),
    col(
      'Restarts',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE,
    col('IP', 'podIP address allocated to the pod.', wide),
    col('Node', 'NodeName is a request to schedule this pod onto a specific node.', wide),
    col('Nominated Node', 'nominatedNodeName is set when this pod preempts other pods on the node.', wide),
    col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', wide),
  ],
  Endpoints: [NAME, col('Endpoints', 'The set of all endpoints is the union of all subsets.'), AGE],
  EndpointSlice: [
    NAME,
    col('AddressType', 'addressType specifies the type of address carried by this EndpointSlice.'),
    col('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    col('Endpoints', 'endpoints is a list of unique endpoints in this slice.'),
    AGE,
  ],
  Node: [
    NAME,
    col('Status', 'The status of the node'),
    col('Roles', 'The roles of the node'),
    AGE,
    col('Version', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'List of addresses reachable to the node.', wide),
    col('External-IP', 'List of addresses reachable to the node.', wide),
    col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', wide),
    col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", wide),
    col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API.', wide),
  ],
  Event: [
    col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col('Reason', 'This should be a short, machine understandable string that gives the reason for the transition.'),
    col('Object', 'The object that this event is about.'),
    col('Subobject', 'The part of the object the event is about (fieldPath).', wide),
    col('Source', 'The component reporting this event.', wide),
    col('Message', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'The time at which the event was first recorded.', wide),
    col('Count', 'The number of times this event has occurred.', wide),
    col('Name', 'Name must be unique within a namespace.', { format: 'name', priority: 1 }),
  ],
  Namespace: [NAME, col('Status', 'The status of the namespace'), AGE],
};

/** Kinds without their own printer get upstream's default table: Name and Created At. */
export const DEFAULT_COLUMNS: ColumnDefinition[] = [
  NAME,
  col('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', {
    format: 'date',
  }),
];

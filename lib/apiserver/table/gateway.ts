/**
 * `kubectl get` rows of the Gateway API kinds, as the apiextensions apiserver prints a custom resource from its CRD's
 * additionalPrinterColumns (tableconvertor): NAME first, then one column per printer column, described by its JSONPath;
 * a string column shows the first value its path finds (nothing when there is none), a date column the age.
 *
 *   GatewayClass     NAME CONTROLLER ACCEPTED AGE (+ DESCRIPTION with -o wide)
 *   Gateway          NAME CLASS ADDRESS PROGRAMMED AGE
 *   TLSRoute         NAME HOSTNAMES AGE
 *   TCPRoute, UDPRoute, ReferenceGrant   NAME AGE
 *
 * Each kind's columns are one list of {definition, cell} pairs: a new column (priority 1 for `-o wide` only) is one
 * more entry, its header and its cells together.
 */
import type { ApiObject } from '../../api/backend.js';
import type { PricingContext } from '../../model/pricing.js';
import type { ColumnDefinition } from './columns.js';
import { since } from './duration.js';

type Obj = Record<string, unknown>;

/** What a cell may depend on besides its object: the server's clock, the region's prices (LB cost columns). */
export interface CellContext {
  now: number;
  pricing?: PricingContext;
}

export interface GatewayColumn {
  definition: ColumnDefinition;
  /** The cell of one object: a string, or null when the column's path finds nothing (kubectl prints nothing). */
  cell(o: ApiObject, ctx: CellContext): unknown;
}

const isRecord = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (isRecord(v) && Object.hasOwn(v, k) ? v[k] : undefined), o);

/** A JSONPath result printed as kubectl's jsonpath printer prints it: strings bare, anything else as JSON. */
function printed(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `.status.conditions[?(@.type=="<type>")].status` */
function conditionStatus(o: unknown, type: string): string | null {
  const conds = field(o, 'status', 'conditions');
  const c = Array.isArray(conds) ? conds.find((x) => isRecord(x) && x.type === type) : undefined;
  return printed(field(c, 'status'));
}

/** A printer column of the CRD: its definition as the apiextensions apiserver builds it. */
function printerColumn(
  name: string,
  jsonPath: string,
  cell: GatewayColumn['cell'],
  opts: { type?: ColumnDefinition['type']; priority?: number } = {},
): GatewayColumn {
  return {
    definition: {
      name,
      type: opts.type ?? 'string',
      format: '',
      description: `Custom resource definition column (in JSONPath format): ${jsonPath}`,
      priority: opts.priority ?? 0,
    },
    cell,
  };
}

const NAME: GatewayColumn = {
  definition: {
    name: 'Name',
    type: 'string',
    format: 'name',
    description:
      'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
    priority: 0,
  },
  cell: (o) => o.metadata?.name ?? '',
};

const AGE = printerColumn(
  'Age',
  '.metadata.creationTimestamp',
  (o, ctx) => since(o.metadata?.creationTimestamp, ctx.now),
  {
    type: 'date',
  },
);

export const GATEWAY_COLUMNS: Record<string, readonly GatewayColumn[]> = {
  GatewayClass: [
    NAME,
    printerColumn('Controller', '.spec.controllerName', (o) => printed(field(o, 'spec', 'controllerName'))),
    printerColumn('Accepted', '.status.conditions[?(@.type=="Accepted")].status', (o) =>
      conditionStatus(o, 'Accepted'),
    ),
    AGE,
    printerColumn('Description', '.spec.description', (o) => printed(field(o, 'spec', 'description')), {
      priority: 1,
    }),
  ],
  Gateway: [
    NAME,
    printerColumn('Class', '.spec.gatewayClassName', (o) => printed(field(o, 'spec', 'gatewayClassName'))),
    printerColumn('Address', '.status.addresses[*].value', (o) => {
      const addrs = field(o, 'status', 'addresses');
      return printed(Array.isArray(addrs) ? addrs.map((a) => field(a, 'value')).find((v) => v !== undefined) : null);
    }),
    printerColumn('Programmed', '.status.conditions[?(@.type=="Programmed")].status', (o) =>
      conditionStatus(o, 'Programmed'),
    ),
    AGE,
  ],
  TLSRoute: [NAME, printerColumn('Hostnames', '.spec.hostnames', (o) => printed(field(o, 'spec', 'hostnames'))), AGE],
  TCPRoute: [NAME, AGE],
  UDPRoute: [NAME, AGE],
  ReferenceGrant: [NAME, AGE],
};

export const gatewayColumnDefinitions = (kind: string): ColumnDefinition[] | undefined =>
  GATEWAY_COLUMNS[kind]?.map((c) => c.definition);

/** The cells of a Gateway API object's row, or undefined for other kinds. */
export function gatewayCells(o: ApiObject, ctx: CellContext): unknown[] | undefined {
  return GATEWAY_COLUMNS[o.kind]?.map((c) => c.cell(o, ctx));
}

/**
 * `kubectl get` rows of the Gateway API kinds, as the apiextensions apiserver prints a custom resource from its CRD's
 * additionalPrinterColumns (tableconvertor): NAME first, then one column per printer column, described by its JSONPath;
 * a string column shows the first value its path finds (nothing when there is none), a date column the age.
 *
 *   GatewayClass     NAME CONTROLLER ACCEPTED AGE (+ DESCRIPTION with -o wide)
 *   Gateway          NAME CLASS ADDRESS PROGRAMMED AGE (+ LB-COST/MO with -o wide, not a CRD column: ours)
 *   TLSRoute         NAME HOSTNAMES AGE
 *   TCPRoute, UDPRoute, ReferenceGrant   NAME AGE
 *
 * Each kind's columns are one list of {definition, cell} pairs: a new column (priority 1 for `-o wide` only) is one
 * more entry, its header and its cells together.
 */
import type { V1Service } from '@kubernetes/client-node';
import type { ApiObject } from '../../api/backend.js';
import { parseLoadBalancerAnnotations } from '../../model/annotations.js';
import { GATEWAY_CONTROLLER_NAME } from '../../model/gateway/types.js';
import { nlbCostCell, type PricingContext } from '../../model/pricing.js';
import { LB_COST, type ColumnDefinition } from './columns.js';
import { since } from './duration.js';

type Obj = Record<string, unknown>;

/** GatewayClass name -> its spec.controllerName, as the server read the GatewayClasses for this Table. */
export type GatewayClassControllers = ReadonlyMap<string, string>;

/**
 * What a cell may depend on besides its object: the server's clock, the region's prices (LB cost columns), and for
 * a Gateway's LB-COST/MO the GatewayClasses' controllers (unset: the server did not read them, the cell is unknown).
 */
export interface CellContext {
  now: number;
  pricing?: PricingContext;
  gatewayClasses?: GatewayClassControllers;
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

/**
 * The Gateway's annotations as the controller reads its NLB settings (lib/gateway/build.ts annotationsOf):
 * metadata.annotations, overridden by spec.infrastructure.annotations. Restated because lib/gateway/build.ts loads
 * lib/lb (the AWS SDK), which this layer may not; test/cost/gateway-column.test.ts checks that both agree.
 */
export function gatewayAnnotations(o: ApiObject): Record<string, string> {
  const strings = (v: unknown): Record<string, string> =>
    isRecord(v)
      ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {};
  return {
    ...strings(field(o, 'metadata', 'annotations')),
    ...strings(field(o, 'spec', 'infrastructure', 'annotations')),
  };
}

/**
 * LB-COST/MO (-o wide): the fixed monthly cost of the one NLB this controller makes for a Gateway of its own class
 * (lib/model/pricing.ts nlbCostCell, the Service column's rule): internal when the Gateway's annotations (or
 * spec.infrastructure.annotations) set the aws-load-balancer-scheme to internal, else internet-facing with one public
 * IPv4 address per AZ (the subnets annotation's, else the server's AZ count). `<none>` for a Gateway of another
 * controller's class, of a class that does not exist, or being deleted; `<unknown>` when the server has no price or
 * did not read the classes.
 *
 * "Ours" is decided as the controller decides it (lib/gateway/reconcile.ts: the GatewayClass named by
 * spec.gatewayClassName has spec.controllerName GATEWAY_CONTROLLER_NAME, and the Gateway is not being deleted), from
 * a class -> controllerName lookup the server reads once per Gateway Table and passes in CellContext; the cell itself
 * stays pure. Not from the Gateway's status: a Gateway's status.conditions carry no controllerName (only a route's
 * status.parents entries do), so the Accepted our controller writes (lib/gateway/status.ts) reads exactly like
 * another controller's; and status lags: a Gateway not reconciled yet (Accepted Unknown, the CRD default) would show
 * `<none>` though its NLB is on the way, and one moved to another class would keep the old answer. The class gives the
 * cost the Gateway has, or will have once the controller has run.
 */
function gatewayCostCell(o: ApiObject, ctx: CellContext): string {
  if (!ctx.gatewayClasses) return '<unknown>';
  const className = field(o, 'spec', 'gatewayClassName');
  const ours =
    typeof className === 'string' &&
    ctx.gatewayClasses.get(className) === GATEWAY_CONTROLLER_NAME &&
    !o.metadata?.deletionTimestamp;
  if (!ours) return '<none>';
  const svcLike: V1Service = { metadata: { annotations: gatewayAnnotations(o) } };
  const { config } = parseLoadBalancerAnnotations(svcLike);
  return nlbCostCell({ internal: config.scheme === 'internal', subnets: config.subnets?.length }, ctx.pricing);
}

const GATEWAY_LB_COST: GatewayColumn = { definition: LB_COST, cell: gatewayCostCell };

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
    GATEWAY_LB_COST,
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

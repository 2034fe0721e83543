/**
 * Objects to a meta.k8s.io Table (the `as=Table` representation kubectl get asks for). Each row carries the
 * object as `includeObject` asks: None (no object), Metadata (the default: a PartialObjectMetadata, which is what
 * kubectl's --show-labels and -L read), or Object (the full object, used by kubectl when sorting).
 */
import type {
  CoreV1Event,
  V1EndpointSlice,
  V1Endpoints,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import type { ApiObject } from '../../api/backend.js';
import { BadRequestError } from '../../errors.js';
import type { PricingContext } from '../../model/pricing.js';
import { COLUMNS, DEFAULT_COLUMNS } from './columns.js';
import { since } from './duration.js';
import { eventCells, namespaceCells, nodeCells } from './cluster.js';
import { gatewayCells, gatewayColumnDefinitions, type GatewayClassControllers } from './gateway.js';
import { podCells, podRowConditions } from './pods.js';
import { endpointSliceCells, endpointsCells, serviceCells } from './services.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** Omit column definitions (every watch event after the first, as upstream). */
  noHeaders: boolean;
  /** meta.k8s.io version the client asked for. */
  version: 'v1' | 'v1beta1';
  now: number;
  /** The server's region for the LB-COST/MO column; without it the column says `<unknown>`. */
  pricing?: PricingContext;
  /** GatewayClass name -> controllerName for a Gateway's LB-COST/MO; without it that cell says `<unknown>`. */
  gatewayClasses?: GatewayClassControllers;
}

export function parseIncludeObject(v: string | null): IncludeObject {
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw new BadRequestError(`includeObject: Unsupported value: "${v}": supported values: "None", "Metadata", "Object"`);
}

function cellsOf(o: ApiObject, opts: TableOptions): unknown[] {
  const { now, pricing } = opts;
  const age = since(o.metadata?.creationTimestamp, now);
  switch (o.kind) {
    case 'Service':
      return serviceCells(o as V1Service, age, pricing);
    case 'Pod':
      return podCells(o as V1Pod, age, now);
    case 'Endpoints':
      return endpointsCells(o as V1Endpoints, age);
    case 'EndpointSlice':
      return endpointSliceCells(o as unknown as V1EndpointSlice, age);
    case 'Node':
      return nodeCells(o as V1Node, age);
    case 'Event':
      return eventCells(o as unknown as CoreV1Event, now);
    case 'Namespace':
      return namespaceCells(o as V1Namespace, age);
    default:
      return gatewayCells(o, opts) ?? [o.metadata?.name ?? '', o.metadata?.creationTimestamp ?? ''];
  }
}

function rowObject(o: ApiObject, include: IncludeObject, version: string): unknown {
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: o.metadata };
}

export function toTable(
  kind: string,
  items: readonly ApiObject[],
  listMeta: Record<string, unknown>,
  opts: TableOptions,
): Record<string, unknown> {
  const rows = items.map((o) => {
    const row: Record<string, unknown> = { cells: cellsOf(o, opts) };
    const conditions = o.kind === 'Pod' ? podRowConditions(o as V1Pod) : [];
    if (conditions.length > 0) row.conditions = conditions;
    if (opts.includeObject !== 'None') row.object = rowObject(o, opts.includeObject, opts.version);
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: listMeta,
    columnDefinitions: opts.noHeaders ? null : (COLUMNS[kind] ?? gatewayColumnDefinitions(kind) ?? DEFAULT_COLUMNS),
    rows,
  };
}

/**
 * The GatewayClass lookup a Table of Gateways needs for its LB-COST/MO column (lib/apiserver/table/gateway.ts):
 * class name -> spec.controllerName. Read from the backend only when a Table holds a Gateway (one list of the
 * cluster-scoped GatewayClasses, a handful of objects), so no other table, and no JSON or YAML read, pays for it.
 * The read is the server's own, like the controller's, not the user's: the cell shows only whether the class is ours.
 * A failed read leaves the lookup unset (the cells say `<unknown>`) rather than failing the request for a -o wide
 * column. A class's controllerName is immutable, so a watch keeps its lookup and reads the classes again only when a
 * Gateway names a class it has not seen (created since).
 */
import type { ApiObject } from '../../api/backend.js';
import { GATEWAY_GROUP } from '../../model/gateway/types.js';
import type { GatewayClassControllers } from '../table/gateway.js';
import type { ResourceContext } from './context.js';

/** As the table code tells kinds apart (no other served kind is named Gateway). */
const isGateway = (o: ApiObject): boolean => o.kind === 'Gateway';

const classNameOf = (o: ApiObject): string | undefined => {
  const name = (o as { spec?: { gatewayClassName?: unknown } }).spec?.gatewayClassName;
  return typeof name === 'string' ? name : undefined;
};

export class GatewayClassLookup {
  private classes?: Map<string, string>;

  constructor(private readonly ctx: ResourceContext) {}

  /** The lookup for a Table of `objects`; undefined when none is a Gateway (nothing read). */
  async for(objects: readonly ApiObject[]): Promise<GatewayClassControllers | undefined> {
    const gateways = objects.filter(isGateway);
    if (gateways.length === 0) return undefined;
    const seen = this.classes;
    if (!seen || gateways.some((g) => !seen.has(classNameOf(g) ?? ''))) this.classes = await this.read();
    return this.classes;
  }

  private async read(): Promise<Map<string, string> | undefined> {
    const info = this.ctx.backend.resources.find((r) => r.group === GATEWAY_GROUP && r.kind === 'GatewayClass');
    if (!info) return undefined;
    try {
      const { items } = await this.ctx.backend.list(info, undefined);
      const controllers = new Map<string, string>();
      for (const c of items) {
        const controller = (c as { spec?: { controllerName?: unknown } }).spec?.controllerName;
        if (c.metadata?.name && typeof controller === 'string') controllers.set(c.metadata.name, controller);
      }
      return controllers;
    } catch {
      return undefined;
    }
  }
}

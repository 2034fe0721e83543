/**
 * Gateway API (gateway.networking.k8s.io) object types, taken from @kubernetes-models/gateway-api (generated from
 * the Gateway API's CRDs) rather than written by hand. Type-only imports: the package's runtime (ajv validators) is
 * loaded only where validation runs. The served versions and storage kinds live in lib/api/resources.ts.
 */
import type { IGatewayClass } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import type { IGateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import type { IListener } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Listener';
import type { IReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ReferenceGrant';
import type { ITLSRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/TLSRoute';
import type { IBackendRef } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendRef';
import type { IParentReference } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ParentReference';
import type { IRouteParentStatus } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/RouteParentStatus';
import type { ITCPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRoute';
import type { IUDPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/UDPRoute';

export type GatewayClass = IGatewayClass;
export type Gateway = IGateway;
export type GatewayListener = IListener;
export type ReferenceGrant = IReferenceGrant;
export type TCPRoute = ITCPRoute;
export type UDPRoute = IUDPRoute;
export type TLSRoute = ITLSRoute;
export type BackendRef = IBackendRef;
export type ParentReference = IParentReference;
export type RouteParentStatus = IRouteParentStatus;

/** The L4 routes this controller programs onto an NLB. */
export type L4Route = TCPRoute | UDPRoute | TLSRoute;
export type L4RouteKind = 'TCPRoute' | 'UDPRoute' | 'TLSRoute';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Storage kind keys (lib/api/resources.ts storageKind: `<Kind>.<group>`). */
export const GATEWAY_KINDS = {
  GatewayClass: `GatewayClass.${GATEWAY_GROUP}`,
  Gateway: `Gateway.${GATEWAY_GROUP}`,
  TCPRoute: `TCPRoute.${GATEWAY_GROUP}`,
  UDPRoute: `UDPRoute.${GATEWAY_GROUP}`,
  TLSRoute: `TLSRoute.${GATEWAY_GROUP}`,
  ReferenceGrant: `ReferenceGrant.${GATEWAY_GROUP}`,
} as const;

/** GatewayClass.spec.controllerName of the classes this controller implements. */
export const GATEWAY_CONTROLLER_NAME = 'serverless-service-controller.io/gateway-controller';

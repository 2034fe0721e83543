/**
 * Names shared by the Gateway pipeline: a Gateway's stack key (the ownership tag value of its NLB's resources; a
 * Service's stack is `<namespace>/<name>`, and namespaces cannot contain "/", so the two can never collide), and a
 * backend's key in the node-port map. Pure.
 */
export const GATEWAY_STACK_PREFIX = 'gateway/';

export const gatewayStack = (namespace: string, name: string): string => `${GATEWAY_STACK_PREFIX}${namespace}/${name}`;

export const isGatewayStack = (stack: string): boolean => stack.startsWith(GATEWAY_STACK_PREFIX);

/** `<namespace>/<service>:<port>/<protocol>`: one Service port as a backend. */
export const backendKeyOf = (b: { namespace: string; service: string; port: number; protocol: string }): string =>
  `${b.namespace}/${b.service}:${b.port}/${b.protocol}`;

/**
 * The generated component schemas (./schemas.json, from scripts/openapi/generate.ts, and the Gateway API kinds'
 * ./gateway-schemas.json, from scripts/openapi/generate-gateway.ts), loaded on first use: OpenAPI requests and
 * strategic merge patches need them, `kubectl get` does not.
 */
export type Schema = Record<string, unknown>;

let schemas: Promise<Record<string, Schema>> | undefined;

export function loadSchemas(): Promise<Record<string, Schema>> {
  schemas ??= Promise.all([
    import('./schemas.json', { with: { type: 'json' } }),
    import('./gateway-schemas.json', { with: { type: 'json' } }),
  ]).then(([core, gateway]) => ({
    ...(core as { default: Record<string, Schema> }).default,
    ...(gateway as { default: Record<string, Schema> }).default,
  }));
  return schemas;
}

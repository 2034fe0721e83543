/**
 * The generated component schemas (./schemas.json, from scripts/openapi/generate.ts), loaded on first use: OpenAPI
 * requests and strategic merge patches need them, `kubectl get` does not.
 */
export type Schema = Record<string, unknown>;

let schemas: Promise<Record<string, Schema>> | undefined;

export function loadSchemas(): Promise<Record<string, Schema>> {
  schemas ??= import('./schemas.json', { with: { type: 'json' } }).then(
    (m) => (m as { default: Record<string, Schema> }).default,
  );
  return schemas;
}

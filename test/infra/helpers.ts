/** Shared by the infra tests: the same context `cdk synth` sees (cdk.json), so feature flags match. */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';

export const REPO = new URL('../../', import.meta.url);

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('cdk.json', REPO), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

/** An App with cdk.json's context (new App() alone does not read cdk.json). */
export function appWithCdkJson(extra: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext(), ...extra } });
}

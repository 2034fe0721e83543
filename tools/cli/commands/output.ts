/**
 * kubectl's machine-readable outputs: `-o json` (4-space indent) and `-o yaml` of the object or, for several, of a
 * `List` with `metadata.resourceVersion: ""`; keys sorted as Go's encoders sort map keys; `-o name` as
 * `<kind>[.<group>]/<name>`.
 */
import yaml from 'js-yaml';
import { kindName, type ResourceInfo } from '../kube/resources.js';
import { UsageError } from '../io.js';

export const OUTPUTS = ['json', 'yaml', 'name', 'wide'] as const;
export type Output = (typeof OUTPUTS)[number];

export function checkOutput(o: string | undefined): Output | undefined {
  if (o === undefined || (OUTPUTS as readonly string[]).includes(o)) return o as Output | undefined;
  throw new UsageError(
    `unable to match a printer suitable for the output format "${o}", allowed formats are: json,name,wide,yaml`,
  );
}

/** A copy with every object's keys in sorted order (how kubectl's unstructured printers emit them). */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

export function listOf(items: unknown[]): Record<string, unknown> {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

export function printObjects(output: 'json' | 'yaml', value: unknown): string {
  const sorted = sortKeys(value);
  if (output === 'json') return JSON.stringify(sorted, null, 4) + '\n';
  return yaml.dump(sorted, { noArrayIndent: true, lineWidth: -1, noRefs: true });
}

export function printNames(r: ResourceInfo, items: { metadata?: { name?: string } }[]): string {
  return items.map((o) => `${kindName(r)}/${o.metadata?.name ?? ''}\n`).join('');
}

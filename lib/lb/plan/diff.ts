/** Small pure helpers every resource planner shares: tag and attribute diffs, the choice among duplicates, batches. */
import type { Action } from '../model.js';

export function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Tag changes: desired tags are authoritative (as in the AWS LB controller) except AWS-reserved "aws:" keys. */
function tagDiff(have: Record<string, string>, want: Record<string, string>) {
  const add: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) if (have[k] !== v) add[k] = v;
  const remove = Object.keys(have)
    .filter((k) => !(k in want) && !k.startsWith('aws:'))
    .sort();
  return { add, remove, changed: Object.keys(add).length > 0 || remove.length > 0 };
}

/** The Tags update action for one resource, or none when its tags already match. */
export function tagsUpdate(
  name: string,
  service: 'elbv2' | 'ec2',
  resource: string,
  have: Record<string, string>,
  want: Record<string, string>,
): Action[] {
  const t = tagDiff(have, want);
  return t.changed ? [{ op: 'update', kind: 'Tags', name, service, resource, add: t.add, remove: t.remove }] : [];
}

export function attrDiff(have: Record<string, string>, want: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) if ((have[k] ?? '') !== v) out[k] = v;
  return out;
}

/** Oldest first, then by ARN: a deterministic choice among duplicates. */
export function byAge<T extends { arn: string; createdTime?: string }>(a: T, b: T): number {
  return (a.createdTime ?? '').localeCompare(b.createdTime ?? '') || a.arn.localeCompare(b.arn);
}

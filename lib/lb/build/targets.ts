/** Targets: the eligible nodes (lib/nodes/eligible.ts), and the NLB's per-AZ target quota warnings. Pure. */
import type { NodeInfo } from '../../model/types.js';

/** NLB quota: 500 registered targets per Availability Zone per load balancer (each target × target group counts). */
export const TARGETS_PER_AZ_QUOTA = 500;

/** Quota warning: nodes × target groups per AZ. */
export function targetQuotaWarnings(nodes: readonly NodeInfo[], targetGroupCount: number): string[] {
  const warnings: string[] = [];
  const perAz = new Map<string, number>();
  for (const n of nodes) perAz.set(n.availabilityZone, (perAz.get(n.availabilityZone) ?? 0) + targetGroupCount);
  for (const [az, count] of [...perAz.entries()].sort()) {
    if (count > TARGETS_PER_AZ_QUOTA) {
      warnings.push(
        `${count} targets in ${az} exceed the NLB quota of ${TARGETS_PER_AZ_QUOTA} targets per Availability Zone ` +
          `(nodes × ports); restrict targets with aws-load-balancer-target-node-labels`,
      );
    } else if (count >= TARGETS_PER_AZ_QUOTA * 0.8) {
      warnings.push(
        `${count} targets in ${az}: near the NLB quota of ${TARGETS_PER_AZ_QUOTA} targets per Availability Zone`,
      );
    }
  }
  return warnings;
}

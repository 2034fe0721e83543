/**
 * The plan's action lists, in the order they are applied, and why:
 *  1. release: listeners and NLBs we will not keep (a duplicate left by a crashed create, or the old NLB of a
 *     scheme/name change). ELBv2 attaches a target group to ONE load balancer only, so these must let go of the
 *     target groups before anything is re-attached.
 *  2. creates (SG, its rules, NLB, TGs, targets, node rule, listeners) in dependency order;
 *  3. updates (attributes, health checks, targets, tags, listener moves to replacement TGs);
 *  4. deletes in dependency order: listeners, target groups, node SG rules, NLB, managed SGs (an SG cannot be
 *     deleted while the NLB's network interfaces or another SG's rule still use it).
 * Each resource's planner (beside this file) appends to the lists; plan/index.ts concatenates them.
 */
import type { Action, Plan } from '../model.js';

export interface PlanBuckets {
  release: Action[];
  creates: Action[];
  updates: Action[];
  deletes: { listeners: Action[]; tgs: Action[]; rules: Action[]; lbs: Action[]; sgs: Action[] };
  warnings: string[];
  /** The kept NLB's DNS name, when one is kept. */
  hostname?: string;
}

export function emptyBuckets(warnings: string[]): PlanBuckets {
  return {
    release: [],
    creates: [],
    updates: [],
    deletes: { listeners: [], tgs: [], rules: [], lbs: [], sgs: [] },
    warnings,
  };
}

export function toPlan(stack: string, b: PlanBuckets): Plan {
  const d = b.deletes;
  return {
    stack,
    actions: [...b.release, ...b.creates, ...b.updates, ...d.listeners, ...d.tgs, ...d.rules, ...d.lbs, ...d.sgs],
    warnings: b.warnings,
    hostname: b.hostname,
  };
}

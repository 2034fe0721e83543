/**
 * How allocation values are laid out in the table: one item ("block") holds up to 64 neighbouring values of a pool,
 * each as an attribute `v:<value>` whose value is the owner's uid. kube-apiserver keeps a whole range in one
 * bitmap object updated by compare-and-swap; a block is the same idea cut to DynamoDB's limits.
 *
 * Why blocks and not one item per value: a claim must commit in the SAME TransactWriteItems as its Service, and a
 * transaction holds at most 100 items (3 are the counter, the object and the log entry). One item per value capped
 * a Service at 97 node ports, where Kubernetes has no such limit (a Service with 120 node ports is valid). With
 * blocks, a write touches one item per block: the default NodePort range (30000-32767) spans 44 blocks, so any
 * Service of that range fits in one transaction, atomically. DynamoDB also forbids two operations on one item in a
 * transaction, so every claim and release of a block is merged into ONE UpdateItem whose condition checks each value.
 *
 * Pure: no SDK; the store turns a Block into its transaction item and reads owners back with `ownerOf`/`ownersIn`.
 */
import type { AllocationClaim, AllocationRelease } from './types.js';

/** Values per block: 64 neighbouring integers, or one /26 of IPv4 addresses. */
export const BLOCK_SIZE = 64;

const ATTR_PREFIX = 'v:';
const INTEGER = /^(0|[1-9][0-9]{0,9})$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The block (the item's sort key) holding `value`: `n:<first>` for integers, `<first address>/26` for IPv4. */
export function blockOf(value: string): string {
  if (INTEGER.test(value)) return `n:${Math.floor(Number(value) / BLOCK_SIZE) * BLOCK_SIZE}`;
  const ip = IPV4.exec(value);
  if (ip) return `${ip[1]}.${ip[2]}.${ip[3]}.${Number(ip[4]) & ~(BLOCK_SIZE - 1)}/26`;
  return `x:${value}`; // anything else: a block of its own
}

export const attrOf = (value: string): string => `${ATTR_PREFIX}${value}`;

/** Every value held in one stored block item, with its owner uid. */
export function ownersIn(item: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(item)) {
    if (k.startsWith(ATTR_PREFIX) && typeof v === 'string') out.set(k.slice(ATTR_PREFIX.length), v);
  }
  return out;
}

/** The claims and releases of one write that fall into one block of one pool. */
export interface Block {
  pool: string;
  block: string;
  claims: AllocationClaim[];
  releases: AllocationRelease[];
}

/**
 * Groups a write's claims and releases by (pool, block), in first-seen order (so cancellation reasons map back).
 * A value claimed twice is claimed once; a value both claimed and released stays claimed (the write keeps it):
 * DynamoDB refuses an update whose SET and REMOVE paths overlap.
 */
export function groupByBlock(claims: AllocationClaim[], releases: AllocationRelease[]): Block[] {
  const blocks = new Map<string, Block>();
  const at = (pool: string, value: string): Block => {
    const block = blockOf(value);
    const key = `${pool}\u0000${block}`;
    let b = blocks.get(key);
    if (!b) blocks.set(key, (b = { pool, block, claims: [], releases: [] }));
    return b;
  };
  const claimed = new Set<string>();
  for (const c of claims) {
    const key = `${c.pool}\u0000${c.value}`;
    if (claimed.has(key)) continue;
    claimed.add(key);
    at(c.pool, c.value).claims.push(c);
  }
  const released = new Set<string>();
  for (const r of releases) {
    const key = `${r.pool}\u0000${r.value}`;
    if (claimed.has(key) || released.has(key)) continue;
    released.add(key);
    at(r.pool, r.value).releases.push(r);
  }
  return [...blocks.values()];
}

/** The parts of one block's UpdateItem: every claim SET to its owner, every release REMOVEd, each one conditional. */
export function blockUpdate(b: Block): {
  update: string;
  condition: string;
  names: Record<string, string>;
  values: Record<string, string>;
} {
  const names: Record<string, string> = {};
  const values: Record<string, string> = {};
  const conditions: string[] = [];
  const sets = b.claims.map((c, i) => {
    names[`#c${i}`] = attrOf(c.value);
    values[`:c${i}`] = c.ownerUid;
    // Free, or already ours (a retried write, or a value moving between two fields of the same object).
    conditions.push(`(attribute_not_exists(#c${i}) OR #c${i} = :c${i})`);
    return `#c${i} = :c${i}`;
  });
  const removes = b.releases.map((r, i) => {
    names[`#r${i}`] = attrOf(r.value);
    values[`:r${i}`] = r.ownerUid;
    // Never free somebody else's value; an already-free value is fine (nothing to release).
    conditions.push(`(attribute_not_exists(#r${i}) OR #r${i} = :r${i})`);
    return `#r${i}`;
  });
  const update = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
  return { update, condition: conditions.join(' AND '), names, values };
}

/**
 * Which of a block's claims and releases conflict with the block as stored (`owners`: value -> uid): a claim whose
 * value another uid holds, a release of a value another uid holds.
 */
export function conflictsIn(b: Block, owners: Map<string, string>) {
  const heldByOther = (value: string, uid: string) => {
    const o = owners.get(value);
    return o !== undefined && o !== uid;
  };
  return {
    claims: b.claims.filter((c) => heldByOther(c.value, c.ownerUid)),
    releases: b.releases.filter((r) => heldByOther(r.value, r.ownerUid)),
  };
}

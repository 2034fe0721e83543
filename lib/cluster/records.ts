/**
 * Cluster mode's own state, as records in the controller's table (lib/store RecordStore: versioned items, conditional
 * writes): the watcher's lease, the ledger that orders a cluster's deliveries, the watch checkpoints, and what each
 * cluster Node says about its instance's eligibility as a load-balancer target.
 *
 * Pure of the AWS SDK: everything goes through RecordStore, so the same code runs on DynamoDB and in tests.
 */
import { ConflictError } from '../errors.js';
import type { RecordStore } from '../store/types.js';

const LEASE = { kind: 'cluster-watcher', id: 'lease' };
const LEDGER_KIND = 'cluster-ledger';
const CHECKPOINT_KIND = 'cluster-checkpoint';
/** A deleted object's tombstone outlives any delivery that could still carry it (a watch resumes within minutes). */
const TOMBSTONE_TTL_MS = 24 * 3600_000;

interface LeaseData {
  holder: string;
  /** Epoch ms after which another watcher may take over (renewed while the holder runs). */
  expiresAt: number;
  /** Epoch ms at which the holder plans to stop (its invocation's deadline): a standby may take over then. */
  endsAt: number;
}

export type LeaseOutcome = { acquired: true } | { acquired: false; holder: string; expiresAt: number; endsAt: number };

/**
 * Exactly one watcher at a time, as leader election does with a Lease object: a record whose conditional writes
 * (version-checked) decide who holds it. A holder that dies stops renewing, and the lease is free `ttlMs` later.
 */
export class WatcherLease {
  private version = 0;
  constructor(
    private readonly records: RecordStore,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(endsAt: number): Promise<LeaseOutcome> {
    const cur = await this.records.getRecord<LeaseData>(LEASE.kind, LEASE.id);
    const free = !cur || cur.data.holder === '' || cur.data.expiresAt <= this.now();
    if (cur && !free) return { acquired: false, ...cur.data };
    try {
      this.version = await this.records.putRecord<LeaseData>(
        LEASE.kind,
        LEASE.id,
        { holder: this.holder, expiresAt: this.now() + this.ttlMs, endsAt },
        cur?.version ?? 0,
      );
      return { acquired: true };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const won = await this.records.getRecord<LeaseData>(LEASE.kind, LEASE.id);
      return { acquired: false, holder: won?.data.holder ?? '', expiresAt: won?.data.expiresAt ?? 0, endsAt: 0 };
    }
  }

  /** Extends the lease; false when it was lost (another watcher took it after it expired). */
  async renew(endsAt: number): Promise<boolean> {
    try {
      this.version = await this.records.putRecord<LeaseData>(
        LEASE.kind,
        LEASE.id,
        { holder: this.holder, expiresAt: this.now() + this.ttlMs, endsAt },
        this.version,
      );
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }

  /** Frees the lease at once for the next watcher (a standby waiting on it takes over without waiting for expiry). */
  async release(): Promise<void> {
    await this.records
      .putRecord<LeaseData>(LEASE.kind, LEASE.id, { holder: '', expiresAt: 0, endsAt: 0 }, this.version)
      .catch((err: unknown) => {
        if (!(err instanceof ConflictError)) throw err;
      });
  }
}

/**
 * Orders resourceVersions of one cluster. Kubernetes calls them opaque, but every etcd-backed server (and this
 * project's own) issues increasing decimal integers; anything else cannot be ordered and compares as equal, which
 * makes the ledger accept it (the watch stream's own order is then all there is).
 */
export function compareResourceVersions(a: string, b: string): number {
  if (!/^\d{1,30}$/.test(a) || !/^\d{1,30}$/.test(b)) return 0;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

interface LedgerData {
  rv: string;
  deleted?: boolean;
}

/**
 * The highest resourceVersion applied per cluster object (by its uid), and a tombstone once it was deleted: a
 * delivery older than what was applied (a watch replayed after a crash, a relist racing a watch) is refused, so it
 * can neither roll the mirror back nor bring a deleted object back.
 */
export class MirrorLedger {
  constructor(private readonly records: RecordStore) {}

  /**
   * Records `rv` for `uid` unless a later one (or a deletion) is recorded; true when the delivery may be applied.
   * An equal rv is admitted again: a crash between recording and applying is finished by the same delivery.
   */
  async admit(kind: string, uid: string, rv: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await this.records.getRecord<LedgerData>(LEDGER_KIND, `${kind}/${uid}`);
      if (cur?.data.deleted) return false;
      if (cur && compareResourceVersions(rv, cur.data.rv) < 0) return false;
      if (cur && cur.data.rv === rv) return true;
      try {
        await this.records.putRecord<LedgerData>(LEDGER_KIND, `${kind}/${uid}`, { rv }, cur?.version ?? 0);
        return true;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    throw new ConflictError(`ledger ${kind}/${uid}: too many concurrent writers`);
  }

  /** The object is gone from the cluster: nothing about this uid is applied again (kept a day, then expired). */
  async tombstone(kind: string, uid: string, rv: string, now = Date.now()): Promise<void> {
    await this.records.putRecord<LedgerData>(LEDGER_KIND, `${kind}/${uid}`, { rv, deleted: true }, undefined, {
      expiresAt: new Date(now + TOMBSTONE_TTL_MS),
    });
  }

  /** The ledger entry of a uid whose mirror is gone for good (its tombstone stays until it expires). */
  async isDeleted(kind: string, uid: string): Promise<boolean> {
    return Boolean((await this.records.getRecord<LedgerData>(LEDGER_KIND, `${kind}/${uid}`))?.data.deleted);
  }
}

/** Where each watch resumes: the last resourceVersion (event or bookmark) whose changes were all applied. */
export class WatchCheckpoints {
  constructor(private readonly records: RecordStore) {}
  async get(resource: string): Promise<string | undefined> {
    return (await this.records.getRecord<{ rv: string }>(CHECKPOINT_KIND, resource))?.data.rv;
  }
  async set(resource: string, rv: string): Promise<void> {
    await this.records.putRecord(CHECKPOINT_KIND, resource, { rv });
  }
}

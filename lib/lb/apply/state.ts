/** What one applyPlan run learns as it goes: the ids of what it created, and the NLB's DNS name. */
import { PermanentError } from '../../errors.js';
import type { Ref } from '../model.js';

export class ApplyState {
  lb?: string;
  sg?: string;
  readonly tg = new Map<string, string>();
  /** Listeners created by this run, by key (their attributes are set next). */
  readonly listener = new Map<string, string>();
  constructor(
    /** The Service's stack, `<namespace>/<name>`: the ownership proof of adopt-by-name checks it. */
    readonly stack: string,
    public hostname: string | undefined,
  ) {}

  /** The id a plan reference stands for: planned actions only reference what an earlier action created. */
  resolve(r: Ref): string {
    if (typeof r === 'string') return r;
    const v = r.ref === 'tg' ? this.tg.get(r.key) : r.ref === 'listener' ? this.listener.get(r.key) : this[r.ref];
    if (!v)
      throw new PermanentError(`internal: plan references ${JSON.stringify(r)} before it is created`, 'PlanOrder');
    return v;
  }
}

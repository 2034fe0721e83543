/**
 * Label/field selection of watch events, with the watch cache's transitions (a MODIFIED that makes an object leave
 * the selection is a DELETED carrying its previous state; one that makes it enter is an ADDED).
 */
import type { ApiObject, ApiWatchEvent } from '../../api/backend.js';
import type { ApiWatchEventWithPrevious } from '../../api/backend-extensions.js';
import { keyOf } from './pagination.js';
import { matches, type Selectors } from './read.js';

export class WatchFilter {
  /** Keys of objects sent on this watch and not deleted since (the fallback when events carry no prevObject). */
  private readonly present = new Set<string>();
  private readonly active: boolean;

  constructor(
    private readonly sel: Selectors,
    private readonly kind: string,
  ) {
    this.active = sel.labels.length > 0 || sel.fields.length > 0;
  }

  private matches(o: ApiObject | undefined): boolean {
    return o !== undefined && matches(this.sel, o, this.kind);
  }

  apply(ev: ApiWatchEventWithPrevious): ApiWatchEvent | undefined {
    if (ev.type === 'BOOKMARK' || !this.active) return ev;
    const key = keyOf(ev.object);
    const now = this.matches(ev.object);
    const before = ev.prevObject ? this.matches(ev.prevObject) : this.present.has(key);
    let out: ApiWatchEvent | undefined;
    if (ev.type === 'DELETED') {
      out = now || before ? ev : undefined;
    } else if (ev.type === 'ADDED') {
      out = now ? ev : undefined;
    } else if (now) {
      out = { type: before || !ev.prevObject ? 'MODIFIED' : 'ADDED', object: ev.object };
    } else if (before) {
      out = { type: 'DELETED', object: withVersion(ev.prevObject ?? ev.object, ev.object) };
    }
    if (out?.type === 'DELETED') this.present.delete(key);
    else if (out) this.present.add(key);
    return out && { type: out.type, object: out.object };
  }
}

/** The previous object at the event's resourceVersion, so clients' resourceVersion bookkeeping advances. */
function withVersion(prev: ApiObject, cur: ApiObject): ApiObject {
  return { ...prev, metadata: { ...prev.metadata, resourceVersion: cur.metadata?.resourceVersion } };
}

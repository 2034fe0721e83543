/**
 * ApiBackend.watch: the apiserver's watch semantics over the change log.
 * - resourceVersion unset or "0": a synthetic ADDED per existing object (a consistent list), then the changes after
 *   the list's revision;
 * - resourceVersion R: every change with revision > R, in revision order; GoneError (410 Expired) when R is below
 *   the compaction horizon or its next entry is gone; the current revision is never too old;
 * - bookmarks (when the client allows them) every `bookmarkMs`: an object of the kind with only
 *   metadata.resourceVersion, the revision up to which the stream is complete;
 * - namespace filtering; the stream ends when the signal aborts.
 */
import { BadRequestError } from '../errors.js';
import type { ChangeLog } from '../store/types.js';
import {
  apiVersionOf,
  type ApiObject,
  type ApiWatchEvent,
  type ListResult,
  type ResourceInfo,
  type WatchOptions,
} from './backend.js';
import type { ApiWatchEventWithPrevious } from './backend-extensions.js';
import type { LogTailer } from './log-tailer.js';
import { storageKind } from './resources.js';

export interface WatchDeps {
  store: Pick<ChangeLog, 'assertWatchable'>;
  tailer: LogTailer;
  list(r: ResourceInfo, namespace: string | undefined): Promise<ListResult>;
  bookmarkMs: number;
}

/** Without bookmarks a watcher still wakes now and then, so an aborted signal is noticed even on a quiet log. */
const IDLE_WAKE_MS = 30_000;

export function parseRevision(rv: string): number {
  if (!/^\d{1,18}$/.test(rv)) throw new BadRequestError(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

export function bookmark(r: ResourceInfo, rev: number): ApiWatchEvent {
  return {
    type: 'BOOKMARK',
    object: { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { resourceVersion: String(rev) } },
  };
}

export async function* watchResource(
  deps: WatchDeps,
  r: ResourceInfo,
  opts: WatchOptions,
): AsyncGenerator<ApiWatchEvent> {
  const kind = storageKind(r);
  const ns = r.namespaced ? opts.namespace : undefined;
  let pos: number;
  if (!opts.resourceVersion || opts.resourceVersion === '0') {
    const initial = await deps.list(r, ns);
    for (const object of initial.items) yield { type: 'ADDED', object };
    pos = Number(initial.resourceVersion);
  } else {
    pos = parseRevision(opts.resourceVersion);
    await deps.store.assertWatchable(pos);
  }
  let lastBookmark = Date.now();
  // A closed tailer returns at once with nothing: the watch ends (the client re-watches) instead of looping.
  while (!opts.signal.aborted && !deps.tailer.isClosed) {
    const until = opts.allowBookmarks ? lastBookmark + deps.bookmarkMs : Date.now() + IDLE_WAKE_MS;
    const entries = await deps.tailer.after(pos, opts.signal, until);
    for (const e of entries) {
      pos = e.rev;
      if (e.kind !== kind || (ns !== undefined && e.namespace !== ns)) continue;
      const ev: ApiWatchEventWithPrevious = { type: e.type, object: e.object as ApiObject };
      if (e.prev) ev.prevObject = e.prev as ApiObject;
      yield ev;
      if (opts.signal.aborted) return;
    }
    if (opts.allowBookmarks && !opts.signal.aborted && Date.now() >= lastBookmark + deps.bookmarkMs) {
      yield bookmark(r, pos);
      lastBookmark = Date.now();
    }
  }
}

/**
 * WATCH (`?watch=true` or the legacy /watch/ prefix): newline-delimited JSON events streamed as the backend yields
 * them, filtered by the selectors, converted to Table rows when kubectl asks (column definitions on the first event
 * only, as upstream), BOOKMARKs at most every bookmarkIntervalMs when the client allows them. The stream ends at
 * timeoutSeconds, at the server's maximum (randomised like the apiserver's so that clients do not reconnect in
 * lockstep), before a Lambda deadline, or when the client goes away; a revision that is compacted away ends it
 * with an ERROR event carrying a 410 Expired Status, after which clients relist.
 */
import type { ApiObject, ApiWatchEvent } from '../../api/backend.js';
import type { ApiResponse } from '../http/types.js';
import { failure, statusFromError, statusResponse } from '../status.js';
import { parseIncludeObject, toTable, type TableOptions } from '../table/convert.js';
import type { ResourceContext } from './context.js';
import { GatewayClassLookup } from './gateway-classes.js';
import { boolParam, intParam } from './query.js';
import { matches, selectorsOf, type Selectors } from './read.js';
import { notAcceptable, representation } from './render.js';
import { WatchFilter } from './watch-filter.js';

/** Time kept back before a hard deadline (Lambda timeout) so the stream ends cleanly. */
const DEADLINE_MARGIN_MS = 2_000;
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

function watchDuration(ctx: ResourceContext): number {
  const timeout = intParam(ctx.req.query, 'timeoutSeconds');
  const max = ctx.opts.maxWatchMs;
  let ms = timeout !== undefined ? timeout * 1000 : max * (1 + Math.random());
  if (ctx.req.deadline !== undefined) ms = Math.min(ms, ctx.req.deadline - Date.now() - DEADLINE_MARGIN_MS);
  return Math.max(0, ms);
}

/** Races each step of `it` against `signal`, so a backend that is waiting for changes cannot hold a watch open. */
async function* untilAborted<T>(it: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iter = it[Symbol.asyncIterator]();
  const aborted = new Promise<IteratorResult<T>>((resolve) => {
    if (signal.aborted) resolve({ done: true, value: undefined });
    signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true });
  });
  try {
    for (;;) {
      const r = await Promise.race([iter.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    void iter.return?.();
  }
}

class Encoder {
  private first = true;
  /** GatewayClasses for Gateway rows' LB-COST/MO, kept for the whole watch (read again for an unseen class). */
  private readonly classes: GatewayClassLookup;
  constructor(
    ctx: ResourceContext,
    private readonly table: TableOptions | undefined,
    private readonly kind: string,
  ) {
    this.classes = new GatewayClassLookup(ctx);
  }

  isTable(): boolean {
    return this.table !== undefined;
  }

  async line(type: string, object: unknown): Promise<string> {
    if (!this.table || type === 'ERROR') return `${JSON.stringify({ type, object })}\n`;
    const obj = object as ApiObject;
    const meta = { resourceVersion: obj.metadata?.resourceVersion ?? '' };
    const rows = type === 'BOOKMARK' ? [] : [obj];
    const gatewayClasses = await this.classes.for(rows);
    const t = toTable(this.kind, rows, meta, { ...this.table, noHeaders: !this.first, gatewayClasses });
    this.first = false;
    return `${JSON.stringify({ type, object: t })}\n`;
  }
}

function bookmark(ctx: ResourceContext, rv: string, annotations?: Record<string, string>): ApiObject {
  const { info } = ctx.route;
  const metadata = annotations ? { resourceVersion: rv, annotations } : { resourceVersion: rv };
  return { apiVersion: info.group ? `${info.group}/${info.version}` : info.version, kind: info.kind, metadata };
}

async function* initialEvents(ctx: ResourceContext, sel: Selectors): AsyncGenerator<ApiWatchEvent, string> {
  const { info, namespace } = ctx.route;
  const { items, resourceVersion } = await ctx.backend.list(info, namespace);
  for (const o of items) if (matches(sel, o, info.kind)) yield { type: 'ADDED', object: o };
  yield { type: 'BOOKMARK', object: bookmark(ctx, resourceVersion, { [INITIAL_EVENTS_END]: 'true' }) };
  return resourceVersion;
}

export function watchObjects(ctx: ResourceContext): ApiResponse {
  const rep = representation(ctx);
  if (rep.as === 'NotAcceptable' || rep.as === 'PartialObjectMetadata') return notAcceptable();
  const q = ctx.req.query;
  const sel = selectorsOf(ctx);
  if (ctx.route.name) sel.fields.push({ field: 'metadata.name', value: ctx.route.name, negate: false });
  const table =
    rep.as === 'Table'
      ? {
          includeObject: parseIncludeObject(q.get('includeObject')),
          noHeaders: false,
          version: rep.version,
          now: ctx.opts.now(),
          pricing: ctx.opts.pricing,
        }
      : undefined;
  const sendInitial = boolParam(q, 'sendInitialEvents');
  if (sendInitial && q.get('resourceVersionMatch') !== 'NotOlderThan') {
    return statusResponse(
      failure(
        'Invalid',
        'sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan',
        {},
        422,
      ),
    );
  }
  const durationMs = watchDuration(ctx);
  const stream = streamEvents(ctx, sel, new Encoder(ctx, table, ctx.route.info.kind), sendInitial, durationMs);
  return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' }, stream };
}

async function* streamEvents(
  ctx: ResourceContext,
  sel: Selectors,
  enc: Encoder,
  sendInitial: boolean,
  durationMs: number,
) {
  const { info, namespace } = ctx.route;
  const q = ctx.req.query;
  const allowBookmarks = boolParam(q, 'allowWatchBookmarks');
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), durationMs);
  const onClientGone = () => stop.abort();
  ctx.req.signal.addEventListener('abort', onClientGone, { once: true });
  const filter = new WatchFilter(sel, info.kind);
  let lastBookmark = ctx.opts.now();
  try {
    let rv = q.get('resourceVersion') || undefined;
    if (sendInitial) {
      const init = initialEvents(ctx, sel);
      let r = await init.next();
      for (; !r.done; r = await init.next()) yield await enc.line(r.value.type, r.value.object);
      rv = r.value;
    }
    const events = ctx.backend.watch(info, { namespace, resourceVersion: rv, allowBookmarks, signal: stop.signal });
    for await (const ev of untilAborted(events, stop.signal)) {
      if (ev.type === 'BOOKMARK') {
        if (!allowBookmarks || enc.isTable() || ctx.opts.now() - lastBookmark < ctx.opts.bookmarkIntervalMs) continue;
        lastBookmark = ctx.opts.now();
      }
      const out = filter.apply(ev);
      if (out) yield await enc.line(out.type, out.object);
    }
  } catch (err) {
    if (!stop.signal.aborted) yield await enc.line('ERROR', statusFromError(err));
  } finally {
    clearTimeout(timer);
    ctx.req.signal.removeEventListener('abort', onClientGone);
    stop.abort();
  }
}

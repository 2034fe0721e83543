/** Calls the API handler in-process (no sockets), for REST-semantics tests that do not need a real client. */
import { RoleAuthorizer, roleTable } from '../../lib/apiserver/auth/roles.js';
import { StaticTokenAuthenticator } from '../../lib/apiserver/auth/static-token.js';
import { createApiHandler } from '../../lib/apiserver/handler.js';
import { isStreamed, type ApiHandler, type ApiResponse } from '../../lib/apiserver/http/types.js';
import type { ServeOptions } from '../../lib/apiserver/resources/context.js';
import type { StoreBackend } from '../../lib/api/store-backend.js';
import { createTestBackend } from './test-backend.js';

/** Parsed JSON, loosely typed for assertions (what JSON.parse returns). */
export type Json = ReturnType<typeof JSON.parse>;

export interface CallOptions {
  query?: Record<string, string>;
  body?: unknown;
  accept?: string;
  contentType?: string;
  signal?: AbortSignal;
}

export interface InProcess {
  backend: StoreBackend;
  /** Moves the compaction horizon to `rev` (test-backend.ts). */
  compact(rev: number): Promise<void>;
  handler: ApiHandler;
  call(method: string, path: string, opts?: CallOptions): Promise<ApiResponse>;
  /** A buffered response's JSON body. */
  json(
    method: string,
    path: string,
    opts?: CallOptions,
  ): Promise<{ status: number; body: Json; headers: Record<string, string> }>;
}

export async function inProcess(options: Partial<ServeOptions> = {}): Promise<InProcess> {
  const { backend, compact } = await createTestBackend({ bookmarkIntervalMs: options.bookmarkIntervalMs });
  const handler = createApiHandler({
    backend,
    authenticator: new StaticTokenAuthenticator(new Map([['t', { username: 'tester', groups: [] }]])),
    authorizer: new RoleAuthorizer(roleTable(new Map([['tester', 'admin']]))),
    options,
  });
  const call = (method: string, path: string, opts: CallOptions = {}) => {
    const text = opts.body === undefined ? '' : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    return handler({
      method,
      path,
      query: new URLSearchParams(opts.query ?? {}),
      headers: {
        authorization: 'Bearer t',
        accept: opts.accept ?? 'application/json',
        'content-type': opts.contentType ?? 'application/json',
      },
      body: async () => new TextEncoder().encode(text),
      signal: opts.signal ?? new AbortController().signal,
    });
  };
  return {
    backend,
    compact,
    handler,
    call,
    json: async (method, path, opts) => {
      const r = await call(method, path, opts);
      if (isStreamed(r)) throw new Error('streamed response');
      return { status: r.status, headers: r.headers, body: JSON.parse(String(r.body)) };
    },
  };
}

/** Reads newline-delimited watch events from a streamed response until `until` says stop. */
export async function readEvents(res: ApiResponse, until: (events: Json[]) => boolean): Promise<Json[]> {
  if (!isStreamed(res)) throw new Error(`expected a stream, got ${res.status}: ${String(res.body)}`);
  const events: Json[] = [];
  const it = res.stream[Symbol.asyncIterator]();
  while (!until(events)) {
    const r = await it.next();
    if (r.done) break;
    events.push(JSON.parse(r.value));
  }
  await it.return?.();
  return events;
}

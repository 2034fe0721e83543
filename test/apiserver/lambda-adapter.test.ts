/**
 * The Lambda Function URL adapter under a stand-in of the streaming runtime (awslambda.streamifyResponse and
 * HttpResponseStream.from, which writes the JSON prelude and 8 NUL bytes before the body, as the runtime does):
 * buffered responses, a watch that streams an event written while it runs and ends by itself before the function's
 * deadline.
 */
import { PassThrough } from 'node:stream';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoleAuthorizer, roleTable } from '../../lib/apiserver/auth/roles.js';
import { StaticTokenAuthenticator } from '../../lib/apiserver/auth/static-token.js';
import { createApiHandler } from '../../lib/apiserver/handler.js';
import { createTestBackend, type TestBackend } from '../support/test-backend.js';
import { resourceOf } from '../support/registry.js';
import { waitFor } from '../support/wait.js';

type StreamHandler = (event: unknown, stream: PassThrough, context: Context) => Promise<void>;

beforeAll(() => {
  (globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: (fn: StreamHandler) => fn,
    HttpResponseStream: {
      from(stream: PassThrough, prelude: object) {
        stream.write(JSON.stringify(prelude));
        stream.write(Buffer.alloc(8));
        return stream;
      },
    },
  };
});

let tb: TestBackend;
let api: ReturnType<typeof createApiHandler>;
beforeAll(async () => {
  tb = await createTestBackend();
  api = createApiHandler({
    backend: tb.backend,
    authenticator: new StaticTokenAuthenticator(new Map([['t', { username: 'u', groups: [] }]])),
    authorizer: new RoleAuthorizer(roleTable(new Map([['u', 'admin']]))),
  });
});
afterAll(() => tb?.closeBackend());

function event(method: string, path: string, query = ''): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers: { authorization: 'Bearer t', accept: 'application/json' },
    requestContext: { http: { method, path } },
    isBase64Encoded: false,
  } as unknown as LambdaFunctionURLEvent;
}

const context = (remainingMs: number) => {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now() } as unknown as Context;
};

async function invoke(ev: LambdaFunctionURLEvent, ctx: Context, out = new PassThrough()) {
  const { createFunctionUrlHandler } = await import('../../lib/apiserver/http/lambda.js');
  const handler = createFunctionUrlHandler(api) as unknown as StreamHandler;
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const done = handler(ev, out, ctx);
  const text = () => Buffer.concat(chunks).toString();
  return { done, text };
}

function split(raw: string): { prelude: { statusCode: number; headers: Record<string, string> }; body: string } {
  const at = raw.indexOf('\0'.repeat(8));
  return { prelude: JSON.parse(raw.slice(0, at)), body: raw.slice(at + 8) };
}

describe('Function URL adapter', () => {
  it('answers a buffered request with status, headers and body', async () => {
    const r = await invoke(event('GET', '/api/v1/namespaces'), context(30_000));
    await r.done;
    const { prelude, body } = split(r.text());
    expect(prelude.statusCode).toBe(200);
    expect(prelude.headers['content-type']).toBe('application/json');
    expect(JSON.parse(body).items.map((i: { metadata: { name: string } }) => i.metadata.name)).toContain('default');
  });

  it('streams a watch and ends it before the deadline (the client re-watches)', async () => {
    const rv = await tb.backend.currentRevision();
    // 2.6 s left: the watch keeps a 2 s margin, so it ends by itself after about 0.6 s.
    const r = await invoke(
      event('GET', '/api/v1/namespaces/default/services', `watch=true&resourceVersion=${rv}`),
      context(2600),
    );
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'streamed', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    };
    await tb.backend.create(resourceOf('services'), 'default', svc as never, {});
    await waitFor(() => r.text().includes('"streamed"'), 'the streamed event');
    await r.done;
    const { prelude, body } = split(r.text());
    expect(prelude.statusCode).toBe(200);
    const events = body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED streamed']);
  });
});

/**
 * Lambda Function URL adapter with response streaming (InvokeMode RESPONSE_STREAM), through middy's
 * `streamifyResponse: true` (which wraps the handler in the runtime's awslambda.streamifyResponse): buffered
 * responses are written at once, watch streams chunk by chunk as events arrive. Every request carries the
 * function's deadline, so a watch ends cleanly a little before the timeout and the client re-watches from its last
 * resourceVersion; when the client goes away the stream is destroyed and the watch's iterator is closed.
 */
import { Readable } from 'node:stream';
import middy from '@middy/core';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { isStreamed, type ApiHandler, type ApiRequest } from './types.js';

interface StreamingResult {
  statusCode: number;
  headers: Record<string, string>;
  body: Readable | string;
}

export function toApiRequest(event: LambdaFunctionURLEvent, context: Context, signal: AbortSignal): ApiRequest {
  const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body: async () => body,
    signal,
    deadline: Date.now() + context.getRemainingTimeInMillis(),
  };
}

async function serve(api: ApiHandler, event: LambdaFunctionURLEvent, context: Context): Promise<StreamingResult> {
  const ac = new AbortController();
  const req = toApiRequest(event, context, ac.signal);
  const res = await api(req);
  const headers = res.headers;
  if (!isStreamed(res)) {
    const body = req.method === 'HEAD' ? '' : res.body;
    return {
      statusCode: res.status,
      headers,
      body: typeof body === 'string' ? body : Readable.from([Buffer.from(body)]),
    };
  }
  const stream = Readable.from(res.stream);
  // A destroyed stream (client gone, runtime shutting down) ends the watch behind it.
  stream.once('close', () => ac.abort());
  return { statusCode: res.status, headers, body: stream };
}

/** The Function URL handler for `api`, streaming. */
export function createFunctionUrlHandler(api: ApiHandler) {
  return middy<LambdaFunctionURLEvent, StreamingResult>({ streamifyResponse: true }).handler((event, context) =>
    serve(api, event, context),
  );
}

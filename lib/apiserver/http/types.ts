/**
 * The transport-independent request and response the API server handler works with. Adapters (node:http in
 * ./node.ts, a Lambda Function URL in ./lambda.ts) translate to and from these, so every route behaves the same
 * locally and deployed.
 */

export interface ApiRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The URL path, percent-decoded per segment by the router (kept raw here). */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw request body (empty for GET). */
  body(): Promise<Uint8Array>;
  /** Aborted when the client goes away; streaming responses (watch) end then. */
  signal: AbortSignal;
  /**
   * Epoch milliseconds by which a streaming response must have ended (a Lambda's timeout minus a margin). A watch
   * ends cleanly before it, and the client re-watches from its last resourceVersion as it does after any timeout.
   */
  deadline?: number;
}

interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** A complete response. */
export interface BufferedResponse extends ResponseHead {
  body: string | Uint8Array;
}

/** A streamed response (watch): each chunk is written and flushed as soon as it is produced. */
export interface StreamedResponse extends ResponseHead {
  stream: AsyncIterable<string>;
}

export type ApiResponse = BufferedResponse | StreamedResponse;

export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse>;

export const isStreamed = (r: ApiResponse): r is StreamedResponse => 'stream' in r;

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): BufferedResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

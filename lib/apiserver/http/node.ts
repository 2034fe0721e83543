/**
 * node:http (or node:https) adapter: loopback by default. kubectl accepts plain HTTP for a kubeconfig
 * `server: http://127.0.0.1:PORT`; a bearer token over plain HTTP is acceptable only on loopback, so binding to
 * anything else requires TLS options.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as TlsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { MAX_BODY_BYTES } from '../resources/body.js';
import { isStreamed, type ApiHandler, type ApiRequest, type ApiResponse } from './types.js';

export interface NodeServerOptions {
  host?: string;
  port?: number;
  tls?: TlsOptions;
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function readBody(msg: IncomingMessage): () => Promise<Uint8Array> {
  let cached: Promise<Uint8Array> | undefined;
  return () =>
    (cached ??= new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      msg.on('data', (c: Buffer) => {
        size += c.length;
        // Keep reading past the limit without storing, so the 413 can still be written.
        if (size <= MAX_BODY_BYTES + 1) chunks.push(c);
      });
      msg.on('end', () => resolve(Buffer.concat(chunks)));
      msg.on('error', reject);
    }));
}

function toApiRequest(msg: IncomingMessage, signal: AbortSignal): ApiRequest {
  const url = new URL(msg.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return {
    method: (msg.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers,
    body: readBody(msg),
    signal,
  };
}

async function writeResponse(res: ServerResponse, r: ApiResponse, head: boolean): Promise<void> {
  if (!isStreamed(r)) {
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    res.writeHead(r.status, { ...r.headers, 'content-length': String(body.byteLength) });
    res.end(head ? undefined : body);
    return;
  }
  res.writeHead(r.status, { ...r.headers, 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  for await (const chunk of r.stream) {
    if (res.destroyed) break;
    res.write(chunk);
  }
  res.end();
}

export function nodeListener(handler: ApiHandler) {
  return (msg: IncomingMessage, res: ServerResponse): void => {
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const req = toApiRequest(msg, ac.signal);
    handler(req)
      .then((r) => writeResponse(res, r, req.method === 'HEAD'))
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(err as Error).message}`);
      });
  };
}

export async function startNodeServer(handler: ApiHandler, opts: NodeServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!opts.tls && host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') {
    throw new Error(`refusing to serve bearer tokens over plain HTTP on ${host}: pass TLS options or bind to loopback`);
  }
  const listener = nodeListener(handler);
  const server = opts.tls ? createHttpsServer(opts.tls, listener) : createHttpServer(listener);
  // Watches are long-lived: no idle request timeout on the socket.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    server,
    url,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

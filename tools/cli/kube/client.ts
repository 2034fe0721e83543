/**
 * A small Kubernetes API client over node:http(s), for svcctl: keep-alive connections (one per request in flight:
 * one for most commands, up to 16 for `apply` of a large file), the kubeconfig's CA and client certificate, a
 * bearer token (from the kubeconfig or its exec plugin). Non-2xx answers become StatusError
 * carrying the server's metav1.Status, which tools/cli/kube/errors.ts prints as kubectl does. Nothing heavier than
 * node:https is loaded (`svcctl get` must start fast).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { runExecPlugin } from './exec-plugin.js';
import type { ResolvedKubeconfig } from './kubeconfig.js';

export interface MetaStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { field?: string; message?: string; reason?: string }[];
  };
}

/** The server refused the request: `status` is its metav1.Status (synthesised when the body was not one). */
export class StatusError extends Error {
  constructor(readonly status: MetaStatus) {
    super(status.message ?? `the server responded with HTTP ${status.code}`);
  }
  get code(): number {
    return this.status.code ?? 0;
  }
  get reason(): string {
    return this.status.reason ?? '';
  }
}

/** The server could not be reached (kubectl: "The connection to the server ... was refused"). */
export class ConnectionError extends Error {}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
}

export interface KubeResponse {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
}

/** kubectl's client-side timeout for one request is unbounded by default; a stuck loopback server must not hang us. */
const REQUEST_TIMEOUT_MS = 60_000;

function statusOf(res: KubeResponse): MetaStatus {
  try {
    const body = JSON.parse(res.text) as MetaStatus;
    if (body.kind === 'Status') return { ...body, code: body.code ?? res.status };
  } catch {
    /* not JSON: synthesised below, as client-go does */
  }
  const text = res.text.trim();
  return {
    kind: 'Status',
    status: 'Failure',
    code: res.status,
    reason: reasonFor(res.status),
    message: text || `the server responded with HTTP ${res.status}`,
  };
}

function reasonFor(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    410: 'Expired',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code] ?? 'Unknown';
}

export class KubeClient {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly url: URL;
  private token?: string;
  private credentials?: Promise<void>;

  constructor(readonly config: ResolvedKubeconfig) {
    this.url = new URL(config.server);
    this.token = config.token;
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            ca: config.ca,
            cert: config.clientCert,
            key: config.clientKey,
            servername: config.serverName,
            rejectUnauthorized: !config.insecure,
          })
        : new HttpAgent({ keepAlive: true });
  }

  get namespace(): string {
    return this.config.namespace;
  }

  /** Runs the exec plugin once per process, when the kubeconfig has one and no static token. */
  private async authorization(): Promise<string | undefined> {
    if (!this.token && this.config.exec) {
      this.credentials ??= runExecPlugin(this.config.exec).then((token) => {
        this.token = token;
      });
      await this.credentials;
    }
    return this.token ? `Bearer ${this.token}` : undefined;
  }

  /** One request; any HTTP status comes back (see `call` for errors as StatusError). */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<KubeResponse> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) q.set(k, v);
    const qs = q.toString();
    const body =
      opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers: Record<string, string> = { accept: opts.accept ?? 'application/json', 'user-agent': 'svcctl' };
    const auth = await this.authorization();
    if (auth) headers.authorization = auth;
    if (body !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const base = this.url.pathname.replace(/\/+$/, '');
    return this.send(method, `${base}${path}${qs ? `?${qs}` : ''}`, headers, body);
  }

  private send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<KubeResponse> {
    const doRequest = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = doRequest(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers,
          agent: this.agent,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`the request to ${this.url.host} timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.connectionError(err)));
      req.end(body);
    });
  }

  private connectionError(err: NodeJS.ErrnoException): Error {
    const host = this.url.host;
    if (err.code === 'ECONNREFUSED')
      return new ConnectionError(
        `The connection to the server ${host} was refused - did you specify the right host or port?`,
      );
    if (err.code === 'ENOTFOUND')
      return new ConnectionError(
        `Unable to connect to the server: dial tcp: lookup ${this.url.hostname}: no such host`,
      );
    return new ConnectionError(`Unable to connect to the server: ${err.message}`);
  }

  /** A request whose non-2xx answer throws StatusError; the parsed JSON body otherwise. */
  async call<T = Record<string, unknown>>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    if (res.status < 200 || res.status > 299) throw new StatusError(statusOf(res));
    return (res.text ? JSON.parse(res.text) : {}) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * The API server as one transport-independent function: authenticate, route, authorize, serve, and turn every
 * error into a metav1.Status. Health endpoints (/healthz, /livez, /readyz) and /version answer without credentials,
 * as kube-apiserver's system:public-info-viewer allows; everything else needs an authenticated user.
 */
import type { ApiBackend } from '../api/backend.js';
import { ForbiddenError } from '../errors.js';
import type { Authenticator, Authorizer, UserInfo } from './auth/types.js';
import { aggregatedContentType, Discovery, SERVER_VERSION } from './discovery.js';
import { jsonResponse, type ApiHandler, type ApiRequest, type ApiResponse } from './http/types.js';
import { negotiate } from './negotiate.js';
import { OpenApiV3 } from './openapi/document.js';
import type { ResourceContext, ServeOptions } from './resources/context.js';
import { notAcceptable } from './resources/render.js';
import { checkVerb, serveResource, verbOf } from './resources/verbs.js';
import { Router, type ResourceRoute, type Route } from './routes.js';
import { errorResponse, notFoundPath } from './status.js';

export interface ApiServerDeps {
  backend: ApiBackend;
  authenticator: Authenticator;
  authorizer: Authorizer;
  options?: Partial<ServeOptions>;
}

const DEFAULTS: ServeOptions = { now: () => Date.now(), bookmarkIntervalMs: 60_000, maxWatchMs: 30 * 60_000 };

class ApiServer {
  private readonly router: Router;
  private readonly discovery: Discovery;
  private readonly openapi: OpenApiV3;
  private readonly opts: ServeOptions;

  constructor(private readonly deps: ApiServerDeps) {
    this.router = new Router(deps.backend.resources);
    this.discovery = new Discovery(deps.backend.resources);
    this.openapi = new OpenApiV3(deps.backend.resources);
    this.opts = { ...DEFAULTS, ...deps.options };
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    const route = this.router.route(req.path);
    let subject: { resource?: string; group?: string; kind?: string; name?: string } = {};
    try {
      if (route.kind === 'health') return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
      if (route.kind === 'version') return jsonResponse(200, SERVER_VERSION);
      const user = await this.deps.authenticator.authenticate(req);
      if (route.kind !== 'resource') return await this.serveNonResource(req, route);
      subject = { resource: route.info.resource, group: route.info.group, kind: route.info.kind, name: route.name };
      return await this.serveResource(req, route, user, (name) => (subject.name = name));
    } catch (err) {
      return errorResponse(err, subject);
    }
  }

  private async serveResource(
    req: ApiRequest,
    route: ResourceRoute,
    user: UserInfo,
    onName: (name: string) => void,
  ): Promise<ApiResponse> {
    const verb = checkVerb(verbOf(req.method, route, req.query), route);
    const attrs = {
      verb,
      group: route.info.group,
      resource: route.info.resource,
      subresource: route.subresource,
      namespace: route.namespace,
      name: route.name,
    };
    const refusal = this.deps.authorizer.authorize(user, attrs);
    if (refusal) throw new ForbiddenError(refusal);
    const ctx: ResourceContext = { req, route, backend: this.deps.backend, user: user.username, opts: this.opts };
    try {
      return await serveResource(verb, ctx);
    } finally {
      if (ctx.objectName) onName(ctx.objectName);
    }
  }

  private async serveNonResource(req: ApiRequest, route: Route): Promise<ApiResponse> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return notFoundPath();
    switch (route.kind) {
      case 'api':
      case 'apis':
        return this.discoveryRoot(req, route.kind === 'api');
      case 'group':
        return jsonResponse(200, this.discovery.group(route.group));
      case 'groupVersion':
        return jsonResponse(200, this.discovery.resourceList(route.group, route.version));
      case 'openapi':
        return this.serveOpenApi(route.version, route.rest);
      default:
        return notFoundPath();
    }
  }

  private discoveryRoot(req: ApiRequest, core: boolean): ApiResponse {
    const rep = negotiate(req.headers.accept, { discovery: true });
    const vary = { vary: 'Accept' };
    if (rep.as === 'Discovery') {
      const body = this.discovery.aggregated(core, rep.version);
      return jsonResponse(200, body, { ...vary, 'content-type': aggregatedContentType(rep.version) });
    }
    if (rep.as !== 'Object') return notAcceptable();
    const host = req.headers.host ?? '';
    return jsonResponse(200, core ? this.discovery.apiVersions(host) : this.discovery.apiGroupList(), vary);
  }

  /**
   * OpenAPI v3 as JSON. /openapi/v2 is not served: kubectl 1.32 asks for it only as protobuf and only when v3 is
   * missing; a 404 makes it fall back to its compiled-in types.
   */
  private async serveOpenApi(version: 'v2' | 'v3', rest: string[]): Promise<ApiResponse> {
    if (version === 'v2') return notFoundPath();
    if (rest.length === 0) return jsonResponse(200, await this.openapi.index());
    const doc = await this.openapi.document(rest.join('/'));
    if (!doc) return notFoundPath();
    return {
      status: 200,
      headers: { 'content-type': 'application/json', etag: `"${doc.hash}"`, 'cache-control': 'public, immutable' },
      body: doc.text,
    };
  }
}

export function createApiHandler(deps: ApiServerDeps): ApiHandler {
  const server = new ApiServer(deps);
  return (req) => server.handle(req);
}

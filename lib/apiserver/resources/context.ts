/** What every resource verb handler gets: the request, its route, the backend and the authenticated user. */
import type { ApiBackend } from '../../api/backend.js';
import type { PricingContext } from '../../model/pricing.js';
import type { ApiRequest } from '../http/types.js';
import type { ResourceRoute } from '../routes.js';

export interface ServeOptions {
  /** Clock for AGE columns and bookmarks (tests pin it). */
  now: () => number;
  /** Minimum spacing of BOOKMARK events on one watch, ms (upstream sends one about every minute). */
  bookmarkIntervalMs: number;
  /** Upper bound of a watch without timeoutSeconds, ms (upstream: --min-request-timeout 1800 s, randomized). */
  maxWatchMs: number;
  /** The AWS region (and AZ count) the Tables' LB-COST/MO column prices NLBs in; unset: `<unknown>`. */
  pricing?: PricingContext;
}

export interface ResourceContext {
  req: ApiRequest;
  route: ResourceRoute;
  backend: ApiBackend;
  user: string;
  opts: ServeOptions;
  /** The object's name once known (from the URL or, on create, the body), for error details. */
  objectName?: string;
}

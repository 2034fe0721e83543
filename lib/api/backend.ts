/**
 * The contract between the Kubernetes REST layer (lib/apiserver: HTTP, discovery, OpenAPI, tables, selectors,
 * patch, watch streaming, authentication) and the write path over the committed store (lib/api + lib/store).
 *
 * Kubernetes semantics this contract carries (kube-apiserver and kine are the model):
 * - `resourceVersion` is ONE global, monotonic revision for the whole store (etcd's revision). Every committed write
 *   (create, update, status update, delete, deletionTimestamp set) takes the next revision and appends one entry to
 *   the change log in the same DynamoDB transaction as the object, so the log is dense: revision N exists for every
 *   N up to the current one, until compaction removes it.
 * - `list` is consistent: it returns every object committed at or before the returned `resourceVersion` (it may also
 *   include later writes; a watch started from that revision then repeats them, which informers tolerate).
 * - `watch` from revision R yields every change with revision > R in revision order; R older than the compaction
 *   horizon throws GoneError (HTTP 410, reason Expired). Without R it first yields a synthetic ADDED per existing
 *   object (state at the list revision), then the changes after it.
 * - Deleting an object that has finalizers sets `metadata.deletionTimestamp` (a MODIFIED change) instead of removing
 *   it; an update that leaves a deleting object with no finalizers removes it (DELETED). Objects without finalizers
 *   are removed at once (DELETED, carrying the last stored object at the deletion's revision).
 *
 * The REST layer owns HTTP concerns (routing, content negotiation, patch documents, label/field selectors, limit and
 * continue, Table conversion, bookmarks cadence); the backend owns storage, defaulting, validation, allocation,
 * admission and revisions. The backend never sees HTTP; the REST layer never sees DynamoDB.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';

/** Any Kubernetes object the API serves, as JSON. Kind-specific types come from @kubernetes/client-node. */
export interface ApiObject {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  [field: string]: unknown;
}

/** One served resource: what discovery, OpenAPI, routing and storage need to know about it. */
export interface ResourceInfo {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** Plural, lower-case: `services`. */
  resource: string;
  /** `service`. */
  singular: string;
  shortNames: readonly string[];
  namespaced: boolean;
  /** Discovery verbs: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs: readonly string[];
  /** Subresources served under `/<name>/<subresource>` (only `status` today). */
  subresources: readonly 'status'[];
  /** Discovery categories (`all` for Services and Pods, as upstream). */
  categories: readonly string[];
  /**
   * Objects users may read but not write (Nodes mirror EC2; EndpointSlices are derived by the controller). Writes
   * from users are Forbidden/MethodNotAllowed; the controller writes them through `systemWrite`.
   */
  systemOwned: boolean;
}

/** `group/version`, or `version` for the core group: the `apiVersion` of the resource's objects. */
export const apiVersionOf = (r: Pick<ResourceInfo, 'group' | 'version'>): string =>
  r.group ? `${r.group}/${r.version}` : r.version;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface ApiWatchEvent {
  type: WatchEventType;
  /** For BOOKMARK: an object of the resource's kind with only `metadata.resourceVersion` (and annotations) set. */
  object: ApiObject;
}

export interface WriteOptions {
  /** `dryRun=All`: run every step (defaults, validation, admission, allocation planning) but persist nothing. */
  dryRun?: boolean;
  /** `fieldValidation=Strict|Warn|Ignore` (kubectl sends Strict): unknown or duplicate fields are errors/warnings. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** The authenticated user (for managedFields-free audit in events and logs). */
  user?: string;
}

export interface DeleteOptions extends WriteOptions {
  /** DeleteOptions.preconditions. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface WriteResult {
  object: ApiObject;
  /** Non-fatal problems to return as `Warning:` headers (fieldValidation=Warn, deprecated annotations). */
  warnings: string[];
}

export interface ListResult {
  items: ApiObject[];
  /** The revision the list is consistent at (see the module comment). */
  resourceVersion: string;
}

export interface WatchOptions {
  namespace?: string;
  /** Absent or '0': synthetic ADDED for the current state first. */
  resourceVersion?: string;
  /** Bookmarks are sent only when the client asked for them (allowWatchBookmarks=true). */
  allowBookmarks?: boolean;
  /** Ends the watch (client went away, timeoutSeconds reached, the Lambda is about to time out). */
  signal: AbortSignal;
}

/**
 * What the REST layer calls. Every method throws only errors from lib/errors.ts (NotFoundError, AlreadyExistsError,
 * ConflictError, InvalidError, GoneError, ForbiddenError, ...), which the REST layer renders as metav1.Status.
 */
export interface ApiBackend {
  readonly resources: readonly ResourceInfo[];
  /** The current global revision (what a list would return now). */
  currentRevision(): Promise<string>;
  get(r: ResourceInfo, namespace: string | undefined, name: string): Promise<ApiObject>;
  list(r: ResourceInfo, namespace: string | undefined): Promise<ListResult>;
  /** POST. `obj.metadata.namespace` must equal `namespace` when set (the REST layer checks and fills it). */
  create(r: ResourceInfo, namespace: string | undefined, obj: ApiObject, opts: WriteOptions): Promise<WriteResult>;
  /**
   * PUT of the main resource or of `status`. A `metadata.resourceVersion` in `obj` is a precondition (409 Conflict
   * when stale); without it the update is unconditional, as upstream. Missing objects are NotFound (no
   * create-on-update for the kinds served here).
   */
  update(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    obj: ApiObject,
    opts: WriteOptions & { subresource?: 'status' },
  ): Promise<WriteResult>;
  /** Returns the object as deleted (DELETED) or as marked for deletion (finalizers pending). */
  delete(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
  ): Promise<{ object: ApiObject; pending: boolean }>;
  watch(r: ResourceInfo, opts: WatchOptions): AsyncIterable<ApiWatchEvent>;
}

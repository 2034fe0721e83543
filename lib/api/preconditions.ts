/**
 * Preconditions a client states (a resourceVersion or uid in the object, DeleteOptions.preconditions): a mismatch is
 * the API server's 409 Conflict, and the answer to the request: the write path never retries it.
 */
import { ConflictError } from '../errors.js';
import type { KubeObject } from '../store/types.js';
import type { ResourceInfo } from './backend.js';
import { qualifiedResource } from './resources.js';

/** A conflict the client caused (stale precondition, a namespace already terminating): reported, never retried. */
export class UserConflictError extends ConflictError {}

/** storage.NewInvalidObjError's wording in etcd3's precondition check. */
export function preconditionFailed(what: 'UID' | 'ResourceVersion', want: string, have: string | undefined): never {
  throw new UserConflictError(
    `Precondition failed: ${what} in precondition: ${want}, ${what} in object meta: ${have ?? ''}`,
  );
}

/** The apiserver's StatusReasonConflict text for a stale resourceVersion. */
export function staleMessage(r: Pick<ResourceInfo, 'group' | 'resource'>, name: string): string {
  return `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`;
}

/** A resourceVersion or uid in the object is a precondition on update, as on the API server. */
export function checkObjectPreconditions(r: ResourceInfo, obj: KubeObject, prev: KubeObject): void {
  const rv = obj.metadata?.resourceVersion;
  if (rv && rv !== prev.metadata?.resourceVersion) {
    throw new UserConflictError(staleMessage(r, prev.metadata?.name ?? ''));
  }
  const uid = obj.metadata?.uid;
  if (uid && uid !== prev.metadata?.uid) preconditionFailed('UID', uid, prev.metadata?.uid);
}

/** DeleteOptions.preconditions. */
export function checkDeletePreconditions(pre: { uid?: string; resourceVersion?: string }, prev: KubeObject): void {
  if (pre.uid && pre.uid !== prev.metadata?.uid) preconditionFailed('UID', pre.uid, prev.metadata?.uid);
  if (pre.resourceVersion && pre.resourceVersion !== prev.metadata?.resourceVersion) {
    preconditionFailed('ResourceVersion', pre.resourceVersion, prev.metadata?.resourceVersion);
  }
}

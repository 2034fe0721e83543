/**
 * Optional additions to the contract in ./backend.ts, kept apart so that file stays as agreed.
 *
 * `prevObject` on MODIFIED watch events: the object as stored before the change. With it the REST layer filters a
 * watch that has a label or field selector exactly as the apiserver's watch cache does: an object that stops
 * matching is sent as DELETED (its previous state at the new revision), one that starts matching as ADDED. A backend
 * whose change log keeps the previous image (as kine's `prev_revision` or a DynamoDB stream's OLD_IMAGE does) should
 * set it. Without it the REST layer can only remember the objects it sent on that watch, so an object that leaves
 * the selection without having been sent on this watch (e.g. listed before the watch began) produces no DELETED.
 */
import type { ApiObject, ApiWatchEvent } from './backend.js';

export interface ApiWatchEventWithPrevious extends ApiWatchEvent {
  prevObject?: ApiObject;
}

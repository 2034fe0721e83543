/**
 * What the API-server write path hands back for publication: a Kubernetes watch event (the same ADDED / MODIFIED /
 * DELETED vocabulary as `kubectl get -w` and client-go informers) carrying the object as stored.
 */
import type { KubeObject } from '../store/store.js';

export type { KubeObject };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** What kubectl apply prints after the object name: `service/web created|configured|unchanged`. */
export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResult<T extends KubeObject = KubeObject> {
  object: T;
  action: ApplyAction;
  /** The event to publish; absent when nothing was written (`unchanged`). */
  event?: WatchEvent<T>;
}

/**
 * Service selector semantics. A Service selector is a plain equality map (no set-based expressions, unlike
 * Deployments): a Pod is selected when it carries every key with the same value. An absent or empty selector selects
 * *nothing* — such a Service is "selector-less" and its endpoints are managed by hand (an Endpoints object), which is
 * how the EndpointSlice controller treats it (it skips Services whose selector is nil or empty).
 */
import type { V1Service } from '@kubernetes/client-node';

export type Selector = Record<string, string> | null | undefined;

/** True when the selector has at least one requirement. */
export function hasSelector(selector: Selector): selector is Record<string, string> {
  return selector != null && Object.keys(selector).length > 0;
}

/** True when the Service's endpoints come from its selector (false: manual Endpoints, or ExternalName). */
export function serviceSelectsPods(svc: V1Service): boolean {
  return svc.spec?.type !== 'ExternalName' && hasSelector(svc.spec?.selector);
}

/**
 * True when every selector entry is present in `labels` with the same value. An empty or absent selector matches
 * nothing (Service semantics), not everything (which is what an empty LabelSelector means elsewhere in Kubernetes).
 */
export function selectorMatches(selector: Selector, labels: Record<string, string> | null | undefined): boolean {
  if (!hasSelector(selector)) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector)) {
    if (!Object.prototype.hasOwnProperty.call(l, k) || l[k] !== v) return false;
  }
  return true;
}

/** labels.Set.String(): `k1=v1,k2=v2` with keys sorted, as kubectl describe prints a selector ('' when empty). */
export function selectorToString(selector: Selector): string {
  if (!hasSelector(selector)) return '';
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

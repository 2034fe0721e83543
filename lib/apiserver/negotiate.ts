/**
 * Accept-header negotiation for the three response shapes clients ask for with media-type parameters
 * (k8s.io/apiserver/pkg/endpoints/handlers/negotiation):
 * - `application/json;as=Table;v=v1;g=meta.k8s.io` — server-side printing (kubectl get);
 * - `application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io` — aggregated discovery (kubectl 1.32
 *   sends v2, then v2beta1, then plain JSON);
 * - `application/json;as=PartialObjectMetadata[List];v=v1;g=meta.k8s.io` — metadata-only clients.
 * Only JSON is served; a request that accepts nothing JSON-compatible gets 406 NotAcceptable.
 */

export interface MediaRange {
  type: string;
  subtype: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*', subtype: '*', params: {} }];
  const out: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [mime, ...rawParams] = part.split(';').map((s) => s.trim());
    const [type, subtype] = (mime ?? '').toLowerCase().split('/');
    if (!type || !subtype) continue;
    const params: Record<string, string> = {};
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
    out.push({ type, subtype, params });
  }
  return out;
}

const isJsonLike = (m: MediaRange): boolean =>
  (m.type === 'application' && (m.subtype === 'json' || m.subtype === '*')) || (m.type === '*' && m.subtype === '*');

export type Representation =
  | { as: 'Object' }
  | { as: 'Table'; version: 'v1' | 'v1beta1' }
  | { as: 'PartialObjectMetadata'; list: boolean; version: 'v1' | 'v1beta1' }
  | { as: 'Discovery'; version: 'v2' | 'v2beta1' }
  | { as: 'NotAcceptable' };

/** The first acceptable representation, in the client's order (kubectl lists its preference first). */
export function negotiate(header: string | undefined, opts: { discovery?: boolean } = {}): Representation {
  for (const m of parseAccept(header)) {
    if (!isJsonLike(m)) continue;
    const { as, g, v } = m.params;
    if (!as) return { as: 'Object' };
    if (as === 'Table' && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1')) return { as: 'Table', version: v };
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && g === 'meta.k8s.io') {
      if (v === 'v1' || v === 'v1beta1') return { as: 'PartialObjectMetadata', list: as.endsWith('List'), version: v };
    }
    if (opts.discovery && as === 'APIGroupDiscoveryList' && g === 'apidiscovery.k8s.io') {
      if (v === 'v2' || v === 'v2beta1') return { as: 'Discovery', version: v };
    }
  }
  return { as: 'NotAcceptable' };
}

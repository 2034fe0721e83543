/**
 * limit/continue. The token is opaque to clients (base64 JSON, like upstream's {"v","rv","start"}): the revision of
 * the first page and the key after which the next page starts. Pages after the first are read from the current state
 * (the store cannot read at an old revision) but report the first page's resourceVersion, so a watch started from
 * it replays every change made while paging; informers tolerate the repeats.
 */
import type { ApiObject } from '../../api/backend.js';
import { BadRequestError } from '../../errors.js';

interface Token {
  v: 'meta.k8s.io/v1';
  rv: string;
  start: string;
}

export const keyOf = (o: ApiObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export function decodeContinue(token: string | null): Token | undefined {
  if (!token) return undefined;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Token;
    if (t.v === 'meta.k8s.io/v1' && typeof t.rv === 'string' && typeof t.start === 'string') return t;
  } catch {
    // fall through to the error below
  }
  throw new BadRequestError('continue key is not valid: invalid continue token');
}

const encode = (t: Token): string => Buffer.from(JSON.stringify(t)).toString('base64url');

export interface Page {
  items: ApiObject[];
  continue?: string;
  remaining: number;
}

/** `sorted` is in key order; returns the page after `token` (if any) of at most `limit` items. */
export function paginate(sorted: ApiObject[], rv: string, limit: number | undefined, token: Token | undefined): Page {
  const from = token ? sorted.findIndex((o) => keyOf(o) > token.start) : 0;
  const rest = from < 0 ? [] : sorted.slice(from);
  if (!limit || rest.length <= limit) return { items: rest, remaining: 0 };
  const items = rest.slice(0, limit);
  const last = keyOf(items[items.length - 1]!);
  return { items, continue: encode({ v: 'meta.k8s.io/v1', rv, start: last }), remaining: rest.length - limit };
}

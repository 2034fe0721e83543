/**
 * Canonical forms shared by every "did it change" test and every name derived from content (pure, no SDK):
 * - canonical JSON: sorted keys, undefined dropped, so comparisons do not depend on key order;
 * - derived names: what `generateName` would produce, but computed from a seed, so a retry (or a crash and a
 *   redelivery) names the object it creates exactly as the first attempt did and finds it instead of leaking a
 *   duplicate.
 */
import { createHash } from 'node:crypto';

/** Canonical JSON (sorted keys, undefined dropped) so that "did the spec change" does not depend on key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(val as Record<string, unknown>).sort()) {
        const x = (val as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = x;
      }
      return out;
    }
    return val;
  });
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** names.SimpleNameGenerator's alphabet (no vowels, no 0/1/3: no words, nothing that reads as another character). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * `prefix` plus five characters of SimpleNameGenerator's alphabet, derived from `seed` instead of drawn at random
 * (the prefix is cut, like upstream's, so the name stays within 63 characters).
 */
export function derivedName(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHABET[digest[i]! % ALPHABET.length];
  return prefix.slice(0, 58) + suffix;
}

/** JSON patch (RFC 6902) through fast-json-patch, with the apiserver's error classes. */
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { BadRequestError, InvalidError } from '../../errors.js';

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function decode(patch: unknown): Operation[] {
  if (!Array.isArray(patch))
    throw new BadRequestError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  for (const op of patch) {
    const o = op as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || !OPS.has(String(o.op)) || typeof o.path !== 'string') {
      throw new BadRequestError(`unexpected kind of operation: ${JSON.stringify(op)}`);
    }
  }
  return patch as Operation[];
}

export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = decode(patch);
  try {
    return fastJsonPatch.applyPatch(structuredClone(doc), ops, true, false).newDocument;
  } catch (err) {
    // The apiserver answers a patch that does not apply with 422 (the request is well-formed but cannot be applied).
    const e = err as { message?: string };
    const message = (e.message ?? String(err)).split('\n')[0]!;
    throw new InvalidError(`the server rejected our request due to an error in our request: ${message}`);
  }
}

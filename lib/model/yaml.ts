/**
 * Reading a manifest file into JSON values, as kubectl does, at a cost bounded by the input's size whatever the
 * input. kubectl splits a file into documents at `---` separator lines (apimachinery's YAMLReader) and converts each
 * document on its own (sigs.k8s.io/yaml over go-yaml v2), so error line numbers count from the document's start; the
 * same here. In order:
 * - each document is held to the apiserver's request limit (3 MiB: every object of a file is one request) before
 *   anything parses it;
 * - js-yaml parses it in one linear pass, refusing nesting past MAX_NESTING_DEPTH and duplicate keys (go-yaml's
 *   "already set in map") as it goes. The `yaml` package was replaced here because it is not linear where it counts:
 *   its unique-key check compares each key with every earlier one (a 1 MiB mapping of 80,000 keys took about a
 *   minute), collection keys are stringified at a cost growing exponentially with nesting, and ~5,000 nested `[`
 *   abort the whole process (V8 out of memory after a stack overflow);
 * - aliases are shared, not copied, by the parser; the expanded document must stay within the size of its text
 *   (plus a margin), which an alias-free document always does and a "billion laughs" document never does.
 *
 * Scalars are resolved as go-yaml v2 resolves them (lib/model/yaml.ts GO_YAML_V2): YAML 1.1 booleans (`yes`, `on`,
 * `y` ...), octal `010`, underscores in numbers, `.inf`/`.nan`, null as `~`/`null`/empty, `<<` merges; timestamps stay
 * strings, as go-yaml returns them for untyped values. Complex (non-scalar) keys, which go-yaml refuses, are turned
 * into strings by js-yaml; they then fail decoding or validation like any other bad key.
 */
import yaml from 'js-yaml';
import { MAX_NESTING_DEPTH, MAX_REQUEST_BYTES } from './decode.js';
import { clip } from './field-errors.js';

export { MAX_REQUEST_BYTES } from './decode.js';

/** A problem with the YAML text itself; `line` counts from the document's first line (1-based). */
export class YamlError extends Error {
  constructor(
    readonly reason: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${reason}` : reason);
  }
}

/** A document over MAX_REQUEST_BYTES. */
export class TooLargeError extends Error {}

// go-yaml v2's resolve table and number rules (resolve.go).
const TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL = new Set(['~', 'null', 'Null', 'NULL', '']);
const SPECIAL_FLOATS = new Map<string, number>([
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((k) => [k, Infinity] as const),
  ...['-.inf', '-.Inf', '-.INF'].map((k) => [k, -Infinity] as const),
  ...['.nan', '.NaN', '.NAN'].map((k) => [k, NaN] as const),
]);
/** strconv.ParseInt(s, 0, 64) forms, after go-yaml removed underscores. */
const GO_INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

function goInt(s: string): number {
  const neg = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  const lower = body.toLowerCase();
  let n: number;
  if (lower.startsWith('0x')) n = parseInt(body.slice(2), 16);
  else if (lower.startsWith('0o')) n = parseInt(body.slice(2), 8);
  else if (lower.startsWith('0b')) n = parseInt(body.slice(2), 2);
  else if (body.length > 1 && body.startsWith('0')) n = parseInt(body.slice(1), 8);
  else n = Number(body);
  return neg ? -n : n;
}

const scalar = (tag: string, resolve: (s: string) => boolean, construct: (s: string) => unknown) =>
  new yaml.Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (d: unknown) => typeof d === 'string' && resolve(d),
    construct: (d: unknown) => construct(String(d ?? '')),
  });

/** Plain scalars as go-yaml v2 reads them; strings, sequences and mappings are js-yaml's own. */
const GO_YAML_V2 = yaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    new yaml.Type('tag:yaml.org,2002:null', {
      kind: 'scalar',
      resolve: (d: unknown) => d === null || (typeof d === 'string' && NULL.has(d)),
      construct: () => null,
    }),
    scalar(
      'bool',
      (s) => TRUE.has(s) || FALSE.has(s),
      (s) => TRUE.has(s),
    ),
    scalar(
      'int',
      (s) => GO_INT.test(s.replace(/_/g, '')),
      (s) => goInt(s.replace(/_/g, '')),
    ),
    scalar(
      'float',
      (s) => SPECIAL_FLOATS.has(s) || GO_FLOAT.test(s.replace(/_/g, '')),
      (s) => SPECIAL_FLOATS.get(s) ?? Number(s.replace(/_/g, '')),
    ),
    // The merge key; js-yaml's loader merges mappings under a key of this tag.
    new yaml.Type('tag:yaml.org,2002:merge', { kind: 'scalar', resolve: (d: unknown) => d === '<<' || d === null }),
  ],
});

/** apimachinery YAMLReader: a line that is `---` followed by nothing but whitespace ends a document. */
export function splitDocuments(text: string): string[] {
  return text.split(/^---[ \t]*\r?$/m);
}

/** The JSON values of every non-empty document of a file, in order. Throws YamlError or TooLargeError. */
export function readYamlDocuments(text: string): unknown[] {
  const out: unknown[] = [];
  for (const chunk of splitDocuments(text)) {
    if (chunk.length * 3 > MAX_REQUEST_BYTES && Buffer.byteLength(chunk, 'utf8') > MAX_REQUEST_BYTES) {
      throw new TooLargeError(`Request entity too large: limit is ${MAX_REQUEST_BYTES}`);
    }
    for (const v of readChunk(chunk)) {
      if (v === null || v === undefined) continue;
      checkExpansion(v, chunk.length + 10_000);
      out.push(v);
    }
  }
  return out;
}

function readChunk(chunk: string): unknown[] {
  try {
    // maxDepth is js-yaml 4.3's own option (not in @types/js-yaml 4.0.9).
    return yaml.loadAll(chunk, null, { schema: GO_YAML_V2, maxDepth: MAX_NESTING_DEPTH } as yaml.LoadOptions);
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      const reason =
        e.reason === 'duplicated mapping key' && e.mark
          ? `key ${JSON.stringify(clip(keyAt(chunk, e.mark.position), 256))} already set in map`
          : e.reason;
      throw new YamlError(clip(reason, 512), e.mark ? e.mark.line + 1 : undefined);
    }
    throw new YamlError(clip(String((e as Error)?.message ?? e), 512));
  }
}

/** The key written at `pos` (where js-yaml marks a duplicated key), unquoted, for go-yaml's message. */
function keyAt(text: string, pos: number): string {
  const rest = text.slice(pos, pos + 1024);
  const quoted = /^"((?:[^"\\]|\\.)*)"|^'((?:[^']|'')*)'/.exec(rest);
  if (quoted) return quoted[1] ?? (quoted[2] ?? '').replace(/''/g, "'");
  return (/^(.*?)\s*:(\s|$)/.exec(rest)?.[1] ?? rest.split('\n')[0] ?? '').trim();
}

/**
 * Refuses a document whose value, aliases expanded, has more nodes than `max`: the parser shares an aliased node,
 * every later step (decoding, JSON encoding) copies it. Walked without recursion; stops as soon as `max` is passed.
 */
function checkExpansion(value: unknown, max: number): void {
  const stack: unknown[] = [value];
  let nodes = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (++nodes > max) throw new YamlError(`document expands to more than ${max} values through aliases`);
    if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) stack.push((v as never)[k]);
  }
}

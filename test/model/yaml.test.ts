/**
 * The manifest reader (lib/model/yaml.ts): go-yaml v2 scalars, kubectl's document split, and every bound that keeps
 * the cost of hostile input proportional to its size (request size, nesting, duplicate keys, alias expansion).
 * Timings are in bench/manifest.ts, not here.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_REQUEST_BYTES,
  readYamlDocuments,
  splitDocuments,
  TooLargeError,
  YamlError,
} from '../../lib/model/yaml.js';

const errorOf = (text: string): YamlError => {
  try {
    readYamlDocuments(text);
  } catch (e) {
    expect(e).toBeInstanceOf(YamlError);
    return e as YamlError;
  }
  throw new Error('expected a YamlError');
};

describe('scalars as go-yaml v2 reads them', () => {
  it('YAML 1.1 booleans, octal, underscores, hex, binary, floats, nulls; timestamps stay strings', () => {
    const [v] = readYamlDocuments(
      [
        'yes: yes',
        'b: [y, Y, on, ON, n, off, No, true, False]',
        'octal: 010',
        'notOctal: 08',
        'under: 1_000',
        'hex: 0x1f',
        'bin: 0b101',
        'o: 0o17',
        'signed: -0x10',
        'float: 1.5e+3',
        'dot: .5',
        'inf: -.Inf',
        'nulls: [~, null, NULL, Null]',
        'empty:',
        'time: 2024-01-01T00:00:00Z',
        'date: 2001-12-14',
        'sexagesimal: 1:30',
        'word: inf',
        'quoted: "010"',
      ].join('\n'),
    );
    expect(v).toEqual({
      true: true,
      b: [true, true, true, true, false, false, false, true, false],
      octal: 8,
      notOctal: 8,
      under: 1000,
      hex: 31,
      bin: 5,
      o: 15,
      signed: -16,
      float: 1500,
      dot: 0.5,
      inf: -Infinity,
      nulls: [null, null, null, null],
      empty: null,
      time: '2024-01-01T00:00:00Z',
      date: '2001-12-14',
      sexagesimal: '1:30',
      word: 'inf',
      quoted: '010',
    });
  });

  it('merges `<<` keys, later keys winning', () => {
    expect(readYamlDocuments('base: &b {x: 1, z: 2}\nm:\n  <<: *b\n  z: 3\n')).toEqual([
      { base: { x: 1, z: 2 }, m: { x: 1, z: 3 } },
    ]);
  });

  it('keys named like Object.prototype members are own data properties', () => {
    const [v] = readYamlDocuments('__proto__: {x: 1}\nconstructor: 2\nvalueOf: 3\ntoString: x\n') as [object];
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'valueOf', 'toString']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ x: 1 });
  });

  it('refuses tags go-yaml does not turn into JSON', () => {
    expect(errorOf('a: !foo bar').message).toBe('line 1: unknown tag !<!foo>');
    expect(errorOf('a: !!set {x}').message).toBe('line 1: unknown tag !<tag:yaml.org,2002:set>');
  });
});

describe('documents', () => {
  it('splits at `---` lines as kubectl does and skips empty documents', () => {
    expect(splitDocuments('a: 1\n---\nb: 2\n--- \n---\n')).toEqual(['a: 1\n', '\nb: 2\n', '\n', '\n']);
    expect(readYamlDocuments('# c\n---\na: 1\n---\n---\n# only a comment\n---\n- x\n')).toEqual([{ a: 1 }, ['x']]);
  });

  it('counts error lines from the start of the document, as kubectl does', () => {
    expect(errorOf('a: 1\n---\nb: 1\nc:\n  d: 1\n  d: 2\n').message).toBe('line 5: key "d" already set in map');
  });
});

describe('bounded cost', () => {
  it('refuses a document over the apiserver request limit before parsing it, per document', () => {
    const big = `x: ${'a'.repeat(MAX_REQUEST_BYTES)}\n`;
    expect(() => readYamlDocuments(big)).toThrow(TooLargeError);
    expect(() => readYamlDocuments(big)).toThrow('Request entity too large: limit is 3145728');
    // Two documents of 2 MiB each: each is one request, each is within the limit.
    const half = `x: ${'a'.repeat(2 * 1024 * 1024)}\n`;
    expect(readYamlDocuments(`${half}---\n${half}`)).toHaveLength(2);
    // Multi-byte characters count as bytes.
    expect(() => readYamlDocuments(`x: ${'é'.repeat(MAX_REQUEST_BYTES / 2 + 1)}\n`)).toThrow(TooLargeError);
  });

  it('finds a duplicate key among 80,000 (a 1 MiB mapping) and names it', () => {
    const keys = Array.from({ length: 80_000 }, (_, i) => `  k${i}: v`).join('\n');
    const [v] = readYamlDocuments(`labels:\n${keys}\n`) as [{ labels: object }];
    expect(Object.keys(v.labels)).toHaveLength(80_000);
    expect(errorOf(`labels:\n${keys}\n  k5: again\n`).message).toBe('line 80002: key "k5" already set in map');
    expect(errorOf('{"a": 1, "b": {"c": 1, "c": 2}}').message).toBe('line 1: key "c" already set in map');
    expect(errorOf("a: 1\n'a': 2").message).toBe('line 2: key "a" already set in map');
  });

  it.each([
    ['flow sequences', (n: number) => `a: ${'['.repeat(n)}${']'.repeat(n)}`],
    ['flow mappings', (n: number) => `${'{a: '.repeat(n)}1${'}'.repeat(n)}`],
    ['compact block sequences', (n: number) => `${'- '.repeat(n)}a`],
    ['explicit keys', (n: number) => `${'? '.repeat(n)}a`],
  ])('refuses %s nested past the limit, however deep (no stack exhaustion)', (_n, make) => {
    expect(() => readYamlDocuments(make(90))).not.toThrow();
    for (const n of [101, 5_000, 200_000]) expect(errorOf(make(n)).reason).toBe('nesting exceeded maxDepth (100)');
  });

  it('refuses alias expansion beyond the size of the text ("billion laughs")', () => {
    const laughs = ['a: &a [1,2,3,4,5,6,7,8,9,10]'];
    for (const [i, n] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
      const prev = String.fromCharCode('a'.charCodeAt(0) + i);
      laughs.push(`${n}: &${n} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    expect(errorOf(laughs.join('\n')).message).toMatch(/^document expands to more than \d+ values through aliases$/);
    // Modest reuse is fine.
    expect(readYamlDocuments('a: &a [1, 2]\nb: [*a, *a]\n')).toEqual([
      {
        a: [1, 2],
        b: [
          [1, 2],
          [1, 2],
        ],
      },
    ]);
  });

  it('reports syntax errors with a line and no source excerpt (one line)', () => {
    const e = errorOf('a:\n  b: "unterminated\n');
    expect(e.message).toBe('line 3: unexpected end of the stream within a double quoted scalar');
    expect(e.message).not.toContain('\n');
  });
});

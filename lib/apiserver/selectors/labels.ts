/**
 * Label selectors as k8s.io/apimachinery/pkg/labels parses them from `?labelSelector=`: comma-separated
 * requirements, each `key`, `!key`, `key=v`, `key==v`, `key!=v`, `key in (a,b)`, `key notin (a,b)`, `key>N`, `key<N`.
 * Keys must be qualified names and values label values; a bad selector is a 400 BadRequest, as upstream.
 */
import { BadRequestError } from '../../errors.js';
import { isQualifiedName, isValidLabelValue } from '../../model/names.js';

type Op = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

export type LabelSelector = Requirement[];

type Token = { t: 'id'; v: string } | { t: 'op'; v: string };

const SPECIAL = new Set([',', '(', ')', '=', '!', '<', '>']);

function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' || c === '!') {
      const two = s.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        out.push({ t: 'op', v: two });
        i += 2;
      } else {
        out.push({ t: 'op', v: c });
        i++;
      }
    } else if (SPECIAL.has(c)) {
      out.push({ t: 'op', v: c });
      i++;
    } else {
      let j = i;
      while (j < s.length && !SPECIAL.has(s[j]!) && !/\s/.test(s[j]!)) j++;
      out.push({ t: 'id', v: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

const fail = (detail: string): never => {
  throw new BadRequestError(`unable to parse requirement: ${detail}`);
};

function checkKey(key: string): void {
  const errs = isQualifiedName(key);
  if (errs.length > 0) fail(`key: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

function checkValue(key: string, i: number, value: string): void {
  const errs = isValidLabelValue(value);
  if (errs.length > 0) fail(`values[${i}][${key}]: Invalid value: ${JSON.stringify(value)}: ${errs.join('; ')}`);
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token | undefined {
    return this.toks[this.pos];
  }
  private next(): Token | undefined {
    return this.toks[this.pos++];
  }

  parse(): LabelSelector {
    const reqs: LabelSelector = [];
    while (this.pos < this.toks.length) {
      reqs.push(this.requirement());
      const sep = this.next();
      if (sep && !(sep.t === 'op' && sep.v === ',')) fail(`found '${sep.v}', expected: ','`);
      if (sep && this.pos >= this.toks.length) fail(`found '', expected: identifier`);
    }
    return reqs;
  }

  private requirement(): Requirement {
    let t = this.next();
    if (t?.t === 'op' && t.v === '!') {
      const key = this.identifier();
      checkKey(key);
      return { key, op: '!', values: [] };
    }
    if (t?.t !== 'id') fail(`found '${t?.v ?? ''}', expected: !, identifier, or 'end of string'`);
    const key = t!.v;
    checkKey(key);
    t = this.peek();
    if (!t || (t.t === 'op' && t.v === ',')) return { key, op: 'exists', values: [] };
    this.pos++;
    if (t.t === 'id' && (t.v === 'in' || t.v === 'notin')) return { key, op: t.v, values: this.set(key) };
    if (t.t === 'op' && (t.v === '=' || t.v === '==' || t.v === '!=')) {
      const value = this.optionalValue();
      checkValue(key, 0, value);
      return { key, op: t.v === '!=' ? '!=' : '=', values: [value] };
    }
    if (t.t === 'op' && (t.v === '>' || t.v === '<')) {
      const value = this.identifier();
      if (!/^-?\d+$/.test(value)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key, op: t.v === '>' ? 'gt' : 'lt', values: [value] };
    }
    return fail(`found '${t.v}', expected: in, notin, =, ==, !=, gt, lt`);
  }

  private identifier(): string {
    const t = this.next();
    if (t?.t !== 'id') fail(`found '${t?.v ?? ''}', expected: identifier`);
    return t!.v;
  }

  /** `key=` with nothing after it selects the empty value. */
  private optionalValue(): string {
    const t = this.peek();
    if (!t || (t.t === 'op' && t.v === ',')) return '';
    return this.identifier();
  }

  private set(key: string): string[] {
    const open = this.next();
    if (!(open?.t === 'op' && open.v === '(')) fail(`found '${open?.v ?? ''}', expected: '('`);
    const values: string[] = [];
    let expectValue = true;
    for (;;) {
      const t = this.next();
      if (!t) return fail(`found '', expected: ')'`);
      if (t.t === 'op' && t.v === ')') {
        if (expectValue && values.length > 0) values.push('');
        break;
      }
      if (t.t === 'op' && t.v === ',') {
        if (expectValue) values.push('');
        expectValue = true;
      } else if (t.t === 'id' && expectValue) {
        checkValue(key, values.length, t.v);
        values.push(t.v);
        expectValue = false;
      } else {
        fail(`found '${t.v}', expected: ',' or ')'`);
      }
    }
    if (values.length === 0) fail(`for 'in', 'notin' operators, values set can't be empty`);
    return values;
  }
}

export function parseLabelSelector(s: string | null | undefined): LabelSelector {
  if (!s || s.trim() === '') return [];
  return new Parser(lex(s)).parse();
}

function matchOne(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case '=':
    case 'in':
      return has && r.values.includes(v!);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const n = Number(v);
      const bound = Number(r.values[0]);
      return r.op === 'gt' ? n > bound : n < bound;
    }
  }
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => matchOne(r, l));
}

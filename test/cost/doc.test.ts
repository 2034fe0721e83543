/**
 * docs/cost.md cannot drift from lib/model/pricing.ts: each generated block in the doc equals what
 * test/cost/doc-table.ts computes from the price table now, and the doc names the table's sources and date.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRICES_AS_OF, PRICING_SOURCES } from '../../lib/model/pricing.js';
import { BEGIN, END, generatedBlocks } from './doc-table.js';

const doc = readFileSync('docs/cost.md', 'utf8');

function block(name: string): string | undefined {
  const start = doc.indexOf(BEGIN(name));
  const end = doc.indexOf(END(name));
  if (start < 0 || end < start) return undefined;
  return doc.slice(start + BEGIN(name).length, end).trim();
}

describe('docs/cost.md', () => {
  it.each(Object.entries(generatedBlocks()))('the %s table is what pricing.ts computes', (name, text) => {
    // On a mismatch: `npx tsx test/cost/doc-table.ts` prints the blocks to paste.
    expect(block(name)).toBe(text);
  });

  it('names the sources and the date of the prices, and the 730-hour month', () => {
    expect(doc).toContain(PRICING_SOURCES.elb);
    expect(doc).toContain(PRICING_SOURCES.publicIpv4);
    expect(doc).toContain(`Table checked ${PRICES_AS_OF}`);
    expect(doc).toContain('730 hours');
    expect(doc).toContain('https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html');
  });
});

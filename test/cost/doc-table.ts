/**
 * The generated tables of docs/cost.md, computed from lib/model/pricing.ts alone. test/cost/doc.test.ts checks that
 * the doc holds exactly this text between its markers; `npx tsx test/cost/doc-table.ts` prints it for pasting.
 */
import { formatUsd, monthlyFixedCost, NLB_PRICES, PRICES_AS_OF, PUBLIC_IPV4_HOUR } from '../../lib/model/pricing.js';

/** The comparison's region, AZ count of an internet-facing NLB, and Service counts. */
export const DOC_REGION = 'us-east-1';
export const DOC_AZS = 3;
export const DOC_SERVICE_COUNTS = [1, 5, 20, 50] as const;
/** Default "Network Load Balancers per Region" quota (adjustable). */
export const NLB_QUOTA = 50;
/** "Listeners per Network Load Balancer" (not adjustable). */
export const LISTENER_LIMIT = 50;

const fixed = (region: string, n: number, azs: number): string =>
  formatUsd(monthlyFixedCost({ region, loadBalancers: n, internetFacingAzs: azs })!.total);

function priceTable(): string[] {
  const lines = [
    `| Region | NLB-hour | NLCU-hour (usage) | fixed/month, internal NLB | fixed/month, internet-facing NLB in ${DOC_AZS} AZs | as of |`,
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const p of NLB_PRICES) {
    const nlcu = p.nlcuHour === null ? 'not checked' : `$${p.nlcuHour}`;
    lines.push(
      `| ${p.region} | $${p.nlbHour} | ${nlcu} | ${fixed(p.region, 1, 0)} | ${fixed(p.region, 1, DOC_AZS)} | ${p.asOf} |`,
    );
  }
  lines.push('', `Public IPv4 address: $${PUBLIC_IPV4_HOUR} per hour each. Table checked ${PRICES_AS_OF}.`);
  return lines;
}

function comparisonTable(): string[] {
  const lines = [
    `| Services (N) | N LoadBalancer Services: NLBs (quota ${NLB_QUOTA}) | fixed/month, internal | fixed/month, internet-facing | one Gateway: NLBs | listeners, 1 port per Service (limit ${LISTENER_LIMIT}) | fixed/month, internal | fixed/month, internet-facing | saved/month, internet-facing |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  // What the Gateway saves is the fixed cost of the N - 1 NLBs it does not create.
  for (const n of DOC_SERVICE_COUNTS) {
    const quota = n >= NLB_QUOTA ? `${n} (all of it)` : `${n}`;
    const listeners = n >= LISTENER_LIMIT ? `${n} (all of it)` : `${n}`;
    lines.push(
      `| ${n} | ${quota} | ${fixed(DOC_REGION, n, 0)} | ${fixed(DOC_REGION, n, DOC_AZS)} | 1 | ${listeners} | ${fixed(DOC_REGION, 1, 0)} | ${fixed(DOC_REGION, 1, DOC_AZS)} | ${fixed(DOC_REGION, n - 1, DOC_AZS)} |`,
    );
  }
  return lines;
}

export const BEGIN = (name: string) =>
  `<!-- generated:${name} (test/cost/doc-table.ts; checked by test/cost/doc.test.ts) -->`;
export const END = (name: string) => `<!-- end:${name} -->`;

/** Each generated block by name: the text between its markers. */
export function generatedBlocks(): Record<string, string> {
  return { prices: priceTable().join('\n'), comparison: comparisonTable().join('\n') };
}

if (process.argv[1]?.endsWith('doc-table.ts')) {
  for (const [name, text] of Object.entries(generatedBlocks())) console.log(`${BEGIN(name)}\n${text}\n${END(name)}\n`);
}

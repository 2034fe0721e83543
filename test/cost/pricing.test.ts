/**
 * lib/model/pricing.ts: the table's shape (sources, dates, regions), the fixed monthly cost (730 h, public IPv4 per
 * AZ of an internet-facing NLB), exact rounding to the cent, the usage (NLCU) part kept apart, and the formatter.
 */
import { describe, expect, it } from 'vitest';
import {
  formatMonthly,
  formatUsd,
  HOURS_PER_MONTH,
  monthlyFixedCost,
  monthlyNlcuCost,
  NLB_PRICES,
  PRICES_AS_OF,
  PRICING_SOURCES,
  pricesFor,
  PUBLIC_IPV4_HOUR,
} from '../../lib/model/pricing.js';

describe('the price table', () => {
  it('has a source and a date for every row, and us-east-1 at the list price', () => {
    expect(HOURS_PER_MONTH).toBe(730);
    expect(PRICING_SOURCES.elb).toBe('https://aws.amazon.com/elasticloadbalancing/pricing/');
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const p of NLB_PRICES) {
      expect(p.source.length).toBeGreaterThan(10);
      expect(p.asOf <= PRICES_AS_OF).toBe(true);
      expect(p.nlbHour).toBeGreaterThan(0);
    }
    expect(new Set(NLB_PRICES.map((p) => p.region)).size).toBe(NLB_PRICES.length);
    expect(pricesFor('us-east-1')).toMatchObject({ nlbHour: 0.0225, nlcuHour: 0.006 });
    expect(PUBLIC_IPV4_HOUR).toBe(0.005);
    expect(pricesFor('xx-nowhere-1')).toBeUndefined();
  });
});

describe('monthlyFixedCost', () => {
  it('one internal NLB in us-east-1: 0.0225 × 730 = 16.425, rounded half up to $16.43', () => {
    expect(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 1 })).toEqual({
      loadBalancers: 16.43,
      publicIpv4: 0,
      total: 16.43,
    });
  });

  it('an internet-facing NLB adds one public IPv4 address per AZ (0.005 × 730 = $3.65 each)', () => {
    expect(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 1, internetFacingAzs: 3 })).toEqual({
      loadBalancers: 16.43,
      publicIpv4: 10.95,
      total: 27.38, // 16.425 + 10.95 = 27.375: rounded once, not 16.43 + 10.95
    });
  });

  it('scales with the number of NLBs, rounding the total once (no cent drift)', () => {
    expect(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 2 })?.total).toBe(32.85);
    expect(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 50 })?.total).toBe(821.25);
    expect(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 50, internetFacingAzs: 3 })?.total).toBe(1368.75);
    expect(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 0 })?.total).toBe(0);
  });

  it('other regions use their own price: eu-west-2 0.02646 × 730 = 19.3158 -> $19.32', () => {
    expect(monthlyFixedCost({ region: 'eu-west-2', loadBalancers: 1 })?.total).toBe(19.32);
    expect(monthlyFixedCost({ region: 'ap-northeast-2', loadBalancers: 1 })?.total).toBe(16.43);
  });

  it('a region without a price has no cost (never a guess)', () => {
    expect(monthlyFixedCost({ region: 'mars-north-1', loadBalancers: 1 })).toBeUndefined();
  });

  it('fractional or negative counts are truncated to whole NLBs and AZs', () => {
    expect(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 1.9, internetFacingAzs: 2.5 })?.total).toBe(23.73);
    expect(monthlyFixedCost({ region: 'us-east-1', loadBalancers: -1 })?.total).toBe(0);
  });
});

describe('usage (NLCU) is separate from the fixed cost', () => {
  it('1 NLCU every hour in us-east-1 is 0.006 × 730 = $4.38; unknown NLCU prices stay unknown', () => {
    expect(monthlyNlcuCost('us-east-1', 1)).toBe(4.38);
    expect(monthlyNlcuCost('us-east-1', 10)).toBe(43.8);
    expect(monthlyNlcuCost('eu-west-2', 1)).toBeUndefined();
    expect(monthlyNlcuCost('nowhere', 1)).toBeUndefined();
  });
});

describe('formatting', () => {
  it('two decimals, grouped thousands, /mo suffix', () => {
    expect(formatMonthly(16.43)).toBe('$16.43/mo');
    expect(formatMonthly(0)).toBe('$0.00/mo');
    expect(formatMonthly(27.4)).toBe('$27.40/mo');
    expect(formatMonthly(1368.75)).toBe('$1,368.75/mo');
    expect(formatUsd(821.25)).toBe('$821.25');
  });
});

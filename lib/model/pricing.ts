/**
 * The fixed monthly cost of this controller's Network Load Balancers, from ONE price table (below) with its sources
 * and dates. Figures are AWS list prices in USD, on-demand, before taxes, credits, the Free Tier or any discount.
 *
 * - "Fixed" is what an NLB costs by existing: its hourly charge, plus, for an internet-facing NLB, the public IPv4
 *   address AWS gives it in each Availability Zone. A month is 730 hours, the convention of AWS's own pricing
 *   examples and Pricing Calculator (8,760 h a year / 12).
 * - "Usage" is the NLCU-hour charge (Network Load Balancer Capacity Units: new flows, active flows, processed bytes),
 *   which depends on traffic; it is never part of the fixed figure.
 *
 * Pure: no AWS SDK. Amounts are computed in micro-dollars (integers), so the rounding to cents is exact.
 */

/** Hours per month in AWS's pricing examples and Pricing Calculator. */
export const HOURS_PER_MONTH = 730;

export const PRICING_SOURCES = {
  /** The Elastic Load Balancing pricing page (NLB tab: per-region hourly and NLCU-hour prices). */
  elb: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
  /** The same prices as the AWS Price List offer file, per region: `.../AWSELB/current/<region>/index.json`. */
  elbPriceList: 'https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AWSELB/current/region_index.json',
  /** Amazon VPC pricing page: public IPv4 addresses (in use or idle), charged since 2024-02-01. */
  publicIpv4: 'https://aws.amazon.com/vpc/pricing/',
} as const;

/** The date the prices below were last checked against their sources. */
export const PRICES_AS_OF = '2026-10-01';

export interface RegionPrices {
  region: string;
  /** USD per NLB-hour (or partial hour). */
  nlbHour: number;
  /** USD per NLCU-hour; null where no source for it was checked (the fixed cost does not need it). */
  nlcuHour: number | null;
  /** Where this row's figures were read, and when. */
  source: string;
  asOf: string;
}

/**
 * NLB list prices per region, only regions whose figures were read from AWS's own pricing (the pricing page or its
 * Price List offer file). A region missing here has no known price: its cost is shown as unknown, never guessed.
 */
export const NLB_PRICES: readonly RegionPrices[] = [
  {
    region: 'us-east-1',
    nlbHour: 0.0225,
    nlcuHour: 0.006,
    source: `${PRICING_SOURCES.elb} (US East (N. Virginia), also the page's worked examples)`,
    asOf: '2026-09-20',
  },
  {
    region: 'eu-west-2',
    nlbHour: 0.02646,
    nlcuHour: null,
    source: 'AWS Price List AWSELB eu-west-2 (published 2026-09-11), EUW2-LoadBalancerUsage, LoadBalancing:Network',
    asOf: '2026-09-11',
  },
  {
    region: 'ap-northeast-2',
    nlbHour: 0.0225,
    nlcuHour: 0.006,
    source: 'AWS Price List AWSELB ap-northeast-2: "$0.0225 per Network LoadBalancer-hour (or partial hour)"',
    asOf: '2026-10-01',
  },
];

/** USD per public IPv4 address-hour, in use or idle, the same in every region listed above. */
export const PUBLIC_IPV4_HOUR = 0.005;

const MICROS = 1_000_000;
const micros = (usd: number): number => Math.round(usd * MICROS);

export function pricesFor(region: string): RegionPrices | undefined {
  return NLB_PRICES.find((p) => p.region === region);
}

export interface FixedCostInput {
  region: string;
  /** How many NLBs. */
  loadBalancers: number;
  /** Availability Zones of each internet-facing NLB (one public IPv4 address each); 0 for internal NLBs. */
  internetFacingAzs?: number;
}

/** A monthly amount in USD, split into its parts; each part is already rounded to the cent. */
export interface MonthlyCost {
  /** The NLB-hour charge. */
  loadBalancers: number;
  /** The public IPv4 addresses of internet-facing NLBs. */
  publicIpv4: number;
  /** loadBalancers + publicIpv4, rounded once (not the sum of the rounded parts). */
  total: number;
}

const cents = (microUsd: number): number => Math.round(microUsd / 10_000) / 100;

/**
 * Fixed monthly cost of `loadBalancers` NLBs in `region`: hourly charge × 730 h, plus one public IPv4 address per AZ
 * of each internet-facing NLB. Undefined when the region has no price in the table.
 */
export function monthlyFixedCost(input: FixedCostInput): MonthlyCost | undefined {
  const p = pricesFor(input.region);
  if (!p) return undefined;
  const n = Math.max(0, Math.trunc(input.loadBalancers));
  const azs = Math.max(0, Math.trunc(input.internetFacingAzs ?? 0));
  const lb = micros(p.nlbHour) * HOURS_PER_MONTH * n;
  const ip = micros(PUBLIC_IPV4_HOUR) * HOURS_PER_MONTH * azs * n;
  return { loadBalancers: cents(lb), publicIpv4: cents(ip), total: cents(lb + ip) };
}

/**
 * Usage part, for comparison only: `averageNlcu` NLCUs consumed every hour for a 730-hour month. Undefined when the
 * region's NLCU price is not in the table.
 */
export function monthlyNlcuCost(region: string, averageNlcu: number): number | undefined {
  const p = pricesFor(region);
  if (!p || p.nlcuHour === null) return undefined;
  return cents(micros(p.nlcuHour) * HOURS_PER_MONTH * averageNlcu);
}

/** `$16.43/mo`; thousands are grouped (`$1,234.50/mo`). */
export function formatMonthly(usd: number): string {
  const s = usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `$${s}/mo`;
}

/** `$16.43` (no unit), for tables whose header says the unit. */
export function formatUsd(usd: number): string {
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/**
 * What the API server knows for the cost column: its AWS region and, when configured, how many AZs the controller's
 * auto-discovered subnets span (the number of public IPv4 addresses of an internet-facing NLB without a subnets
 * annotation).
 */
export interface PricingContext {
  region: string;
  internetFacingAzs?: number;
}

/** One NLB as a cost cell sees it: its scheme and, when its subnets are named, how many (one per AZ). */
export interface NlbCostShape {
  internal: boolean;
  /** The subnets annotation's count; unset: the controller picks them (the server's configured AZ count). */
  subnets?: number;
}

/**
 * The LB-COST/MO cell of one NLB, for every table that has the column (Services, Gateways): its fixed monthly cost
 * (`$27.38/mo`), `<unknown>` when the server has no region or its region no price. An internet-facing NLB adds one
 * public IPv4 address per AZ: the named subnets', else the server's configured count; with neither, the cell says
 * `+IPv4` after the NLB's own charge.
 */
export function nlbCostCell(nlb: NlbCostShape, pricing: PricingContext | undefined): string {
  if (!pricing) return '<unknown>';
  const azs = nlb.internal ? 0 : (nlb.subnets ?? pricing.internetFacingAzs);
  const cost = monthlyFixedCost({ region: pricing.region, loadBalancers: 1, internetFacingAzs: azs ?? 0 });
  if (!cost) return '<unknown>';
  return azs === undefined ? `${formatMonthly(cost.total)}+IPv4` : formatMonthly(cost.total);
}

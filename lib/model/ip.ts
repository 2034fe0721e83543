/**
 * IPv4 arithmetic on unsigned 32-bit numbers, plus syntax checks for IPv4/IPv6 addresses and CIDRs.
 *
 * Addresses are plain `number`s in 0..2^32-1 (always normalised with `>>> 0`, because JavaScript bitwise operators
 * yield signed 32-bit results). Parsing is strict: dotted quads only, no leading zeros, which is what the API
 * server enforces for new objects (netip.ParseAddr). The ClusterIP allocator and the nftables renderer build on this.
 */

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses a strict dotted-quad IPv4 address ("10.0.0.1") into an unsigned 32-bit number; undefined if malformed. */
export function parseIPv4(s: string): number | undefined {
  if (typeof s !== 'string') return undefined;
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    // Leading zeros are rejected: "010" is octal to some parsers and decimal to others, so Kubernetes refuses it.
    if (!DEC_OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n >>> 0;
}

/** Formats an unsigned 32-bit number as a dotted quad. Values outside 0..2^32-1 are a programming error. */
export function formatIPv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not an IPv4 address number: ${n}`);
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

export interface Ipv4Cidr {
  /** Network address (host bits cleared). */
  base: number;
  prefix: number;
  /** Number of addresses in the block (2^(32-prefix)). */
  size: number;
}

/** Network mask for a prefix length 0..32, as an unsigned number (prefix 0 gives 0: `-1 << 32` would not). */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

const PREFIX_LEN = /^(0|[1-9][0-9]?|1[0-9]{2})$/;

/**
 * Parses an IPv4 CIDR ("10.96.0.0/12"). Like Go's net.ParseCIDR, host bits are accepted ("10.96.0.1/12") and the
 * returned base is the masked network address.
 */
export function parseCidr(s: string): Ipv4Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIPv4(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (ip === undefined || !PREFIX_LEN.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > 32) return undefined;
  return { base: (ip & maskOf(prefix)) >>> 0, prefix, size: 2 ** (32 - prefix) };
}

/** True when `ip` lies inside `cidr` (a parsed CIDR or its string form; an unparsable string contains nothing). */
export function cidrContains(cidr: Ipv4Cidr | string, ip: number): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  if (!c) return false;
  return (ip & maskOf(c.prefix)) >>> 0 === c.base;
}

export function isIPv4(s: string): boolean {
  return parseIPv4(s) !== undefined;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * IPv6 syntax as Go's net.ParseIP accepts it: eight 16-bit hex groups, one "::" standing for one or more zero groups,
 * and an optional dotted-quad IPv4 tail occupying the last two groups. Zones ("%eth0") are not addresses here.
 */
export function isIPv6(s: string): boolean {
  if (typeof s !== 'string' || s.length === 0 || !s.includes(':')) return false;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return false;
  const countGroups = (part: string, allowV4Tail: boolean): number | undefined => {
    if (part === '') return 0;
    const groups = part.split(':');
    let n = 0;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] ?? '';
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        if (!isIPv4(g)) return undefined;
        n += 2;
      } else if (HEX_GROUP.test(g)) {
        n += 1;
      } else {
        return undefined;
      }
    }
    return n;
  };
  if (dbl < 0) return countGroups(s, true) === 8;
  const head = countGroups(s.slice(0, dbl), false);
  const tail = countGroups(s.slice(dbl + 2), true);
  if (head === undefined || tail === undefined) return false;
  // "::" must replace at least one group.
  return head + tail <= 7;
}

/** Any IP address, IPv4 or IPv6. */
export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/**
 * CIDR syntax, IPv4 or IPv6 (loadBalancerSourceRanges may hold either; an NLB accepts both). Host bits are allowed,
 * as Go's net.ParseCIDR allows them.
 */
export function isCidr(s: string): boolean {
  if (typeof s !== 'string') return false;
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const p = s.slice(slash + 1);
  if (!PREFIX_LEN.test(p)) return false;
  const prefix = Number(p);
  if (isIPv4(addr)) return prefix <= 32;
  if (isIPv6(addr)) return prefix <= 128;
  return false;
}

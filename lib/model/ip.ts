/**
 * The one home of IP and CIDR handling: parsing (IPv4 and IPv6), IPv4 arithmetic on unsigned 32-bit numbers, and the
 * classification Kubernetes applies to endpoint addresses. The API's validation, the endpoint computation, the
 * load-balancer annotations and the data-plane renderer's own re-check all use these functions, so an address is
 * read the same way on every path.
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

/** The 16-bit groups of one side of "::" (an IPv4 tail counts as two); undefined when malformed. */
function ipv6Groups(part: string, allowV4Tail: boolean): number[] | undefined {
  if (part === '') return [];
  const out: number[] = [];
  const groups = part.split(':');
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? '';
    if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIPv4(g);
      if (v4 === undefined) return undefined;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else if (HEX_GROUP.test(g)) {
      out.push(parseInt(g, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

/**
 * Parses IPv6 as Go's net.ParseIP accepts it into its eight 16-bit groups: hex groups, one "::" standing for one or
 * more zero groups, and an optional dotted-quad IPv4 tail occupying the last two groups. Zones ("%eth0") are not
 * addresses here.
 */
export function parseIPv6(s: string): number[] | undefined {
  if (typeof s !== 'string' || s.length === 0 || !s.includes(':')) return undefined;
  const dbl = s.indexOf('::');
  if (dbl < 0) {
    const all = ipv6Groups(s, true);
    return all?.length === 8 ? all : undefined;
  }
  if (s.indexOf('::', dbl + 1) >= 0) return undefined;
  const head = ipv6Groups(s.slice(0, dbl), false);
  const tail = ipv6Groups(s.slice(dbl + 2), true);
  // "::" must replace at least one group.
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

export function isIPv6(s: string): boolean {
  return parseIPv6(s) !== undefined;
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

/** The IPv4 address of a dotted quad or of an IPv4-mapped IPv6 address (::ffff:a.b.c.d); undefined otherwise. */
export function ipv4Of(s: string): number | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return v4;
  const g = parseIPv6(s);
  if (!g || !g.slice(0, 5).every((x) => x === 0) || g[5] !== 0xffff) return undefined;
  return ((g[6]! << 16) | g[7]!) >>> 0;
}

/** What kind of address an IP is, by the tests of Go's net.IP that Kubernetes' endpoint validation relies on. */
export interface IPClass {
  unspecified: boolean;
  loopback: boolean;
  /** 169.254.0.0/16 (the EC2 instance metadata service lives there), fe80::/10. */
  linkLocalUnicast: boolean;
  /** 224.0.0.0/24, ff02::/16 (and the other ffX2 scopes Go counts). */
  linkLocalMulticast: boolean;
  /** 224.0.0.0/4, ff00::/8. */
  multicast: boolean;
}

/**
 * Classifies an IPv4 or IPv6 address; undefined when it is neither. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 * classified by its IPv4 address, as Go's net.IP does: "::ffff:169.254.169.254" is the metadata service too.
 */
export function classifyIP(s: string): IPClass | undefined {
  const v4 = ipv4Of(s);
  const v6 = v4 === undefined ? parseIPv6(s) : undefined;
  if (v4 === undefined && v6 === undefined) return undefined;
  if (v4 !== undefined) {
    return {
      unspecified: v4 === 0,
      loopback: v4 >>> 24 === 127,
      linkLocalUnicast: v4 >>> 16 === 0xa9fe,
      linkLocalMulticast: v4 >>> 8 === 0xe00000,
      multicast: v4 >>> 28 === 0xe,
    };
  }
  const g = v6!;
  const zeroHead = g.slice(0, 7).every((x) => x === 0);
  return {
    unspecified: zeroHead && g[7] === 0,
    loopback: zeroHead && g[7] === 1,
    linkLocalUnicast: (g[0]! & 0xffc0) === 0xfe80,
    linkLocalMulticast: (g[0]! & 0xff0f) === 0xff02,
    multicast: g[0]! >>> 8 === 0xff,
  };
}

/**
 * Kubernetes' ValidateEndpointIP, word for word: the reasons `ip` may not be an endpoint address or an external IP
 * (empty when it may). Unspecified and loopback addresses are nonsensical; link-local ones are node-centric:
 * 169.254.169.254 is every EC2 node's instance metadata service.
 */
export function nonSpecialIPProblems(ip: string): string[] {
  const c = classifyIP(ip);
  if (!c) return ['must be a valid IP address'];
  const out: string[] = [];
  if (c.unspecified) out.push(`may not be unspecified (${ip})`);
  if (c.loopback) out.push('may not be in the loopback range (127.0.0.0/8, ::1/128)');
  if (c.linkLocalUnicast) out.push('may not be in the link-local range (169.254.0.0/16, fe80::/10)');
  if (c.linkLocalMulticast) out.push('may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  return out;
}

/**
 * Why `ip` may not be an endpoint address: a Pod IP, an Endpoints or EndpointSlice address, a DNAT target on every
 * node. Kubernetes' four reasons (nonSpecialIPProblems), and two of ours where Kubernetes is more permissive: any
 * multicast address (kube's own comment calls allowing global multicast "probably a bug") and an address inside the
 * service CIDR (an endpoint at a ClusterIP would loop through the node's rules).
 */
export function endpointIPProblems(ip: string, serviceCidr?: string): string[] {
  const out = nonSpecialIPProblems(ip);
  const c = classifyIP(ip);
  if (c?.multicast && !c.linkLocalMulticast) out.push('may not be a multicast address (224.0.0.0/4, ff00::/8)');
  const range = serviceCidr === undefined ? undefined : parseCidr(serviceCidr);
  const v4 = ipv4Of(ip);
  if (range && v4 !== undefined && cidrContains(range, v4)) {
    out.push(`may not be in the service IP range (${serviceCidr})`);
  }
  return out;
}

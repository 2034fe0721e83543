import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  cidrContains,
  formatIPv4,
  isCidr,
  isIP,
  isIPv4,
  isIPv6,
  maskOf,
  parseCidr,
  parseIPv4,
} from '../../lib/model/ip.js';

describe('parseIPv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.0.0.1', 0x0a000001],
    ['255.255.255.255', 0xffffffff],
    ['192.168.1.254', 0xc0a801fe],
    ['128.0.0.0', 0x80000000],
  ])('parses %s', (s, n) => {
    expect(parseIPv4(s)).toBe(n);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3.-1',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1..3.4',
    '0x1.2.3.4',
    '1.2.3.4/32',
    '::1',
    '1.2.3.1e2',
  ])('rejects %j', (s) => {
    expect(parseIPv4(s)).toBeUndefined();
    expect(isIPv4(s)).toBe(false);
  });

  it('round-trips every 32-bit number through formatIPv4', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(parseIPv4(formatIPv4(n))).toBe(n);
      }),
    );
  });

  it('round-trips every canonical dotted quad', () => {
    fc.assert(
      fc.property(fc.ipV4(), (s) => {
        const n = parseIPv4(s);
        expect(n).toBeDefined();
        expect(formatIPv4(n!)).toBe(s);
      }),
    );
  });

  it('formatIPv4 refuses out-of-range numbers', () => {
    expect(() => formatIPv4(-1)).toThrow(RangeError);
    expect(() => formatIPv4(2 ** 32)).toThrow(RangeError);
    expect(() => formatIPv4(1.5)).toThrow(RangeError);
  });
});

describe('parseCidr', () => {
  it('parses a network CIDR', () => {
    expect(parseCidr('10.96.0.0/12')).toEqual({ base: 0x0a600000, prefix: 12, size: 1 << 20 });
  });
  it('accepts host bits and masks them, like net.ParseCIDR', () => {
    expect(parseCidr('10.96.7.9/12')).toEqual({ base: 0x0a600000, prefix: 12, size: 1 << 20 });
    expect(parseCidr('192.168.1.77/24')?.base).toBe(parseIPv4('192.168.1.0'));
  });
  it('handles /0 and /32', () => {
    expect(parseCidr('1.2.3.4/0')).toEqual({ base: 0, prefix: 0, size: 2 ** 32 });
    expect(parseCidr('1.2.3.4/32')).toEqual({ base: 0x01020304, prefix: 32, size: 1 });
  });
  it.each(['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/08', '10.0.0/8', 'fd00::/8', '/8'])(
    'rejects %j',
    (s) => {
      expect(parseCidr(s)).toBeUndefined();
    },
  );
  it('masks: maskOf', () => {
    expect(maskOf(0)).toBe(0);
    expect(maskOf(8)).toBe(0xff000000);
    expect(maskOf(32)).toBe(0xffffffff);
  });
});

describe('cidrContains', () => {
  it('contains the first and last address and nothing outside', () => {
    const c = parseCidr('10.96.0.0/12')!;
    expect(cidrContains(c, parseIPv4('10.96.0.0')!)).toBe(true);
    expect(cidrContains(c, parseIPv4('10.111.255.255')!)).toBe(true);
    expect(cidrContains(c, parseIPv4('10.112.0.0')!)).toBe(false);
    expect(cidrContains(c, parseIPv4('10.95.255.255')!)).toBe(false);
    expect(cidrContains('0.0.0.0/0', parseIPv4('203.0.113.9')!)).toBe(true);
    expect(cidrContains('not-a-cidr', 0)).toBe(false);
  });
  it('agrees with base/size arithmetic (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (a, p, ip) => {
          const c = parseCidr(`${formatIPv4(a)}/${p}`)!;
          expect(cidrContains(c, ip)).toBe(ip >= c.base && ip < c.base + c.size);
        },
      ),
    );
  });
});

describe('IPv6 and CIDR syntax', () => {
  it.each(['::', '::1', 'fd00::', '2001:db8::8a2e:370:7334', '1:2:3:4:5:6:7:8', '::ffff:10.0.0.1', '1::8', 'FE80::1'])(
    'accepts IPv6 %s',
    (s) => {
      expect(isIPv6(s)).toBe(true);
      expect(isIP(s)).toBe(true);
    },
  );
  it.each([
    ':',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '12345::',
    'g::1',
    '1:2:3:4:5:6:7',
    '::1.2.3',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7::8:9',
  ])('rejects IPv6 %j', (s) => {
    expect(isIPv6(s)).toBe(false);
  });
  it.each(['10.0.0.0/8', '0.0.0.0/0', '203.0.113.7/32', '1.2.3.4/24', 'fd00::/8', '::/0', '2001:db8::/128'])(
    'isCidr accepts %s',
    (s) => {
      expect(isCidr(s)).toBe(true);
    },
  );
  it.each(['10.0.0.0', '10.0.0.0/33', 'fd00::/129', 'fd00::', 'foo/8', '10.0.0.0/8/8', '10.0.0.0/ 8', ''])(
    'isCidr rejects %j',
    (s) => {
      expect(isCidr(s)).toBe(false);
    },
  );
});

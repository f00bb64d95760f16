import { describe, expect, it } from 'vitest';
import { senderKey } from '../../src/runtime/node/inbound-smtp.js';

describe('senderKey: whose inbound connections count together', () => {
  it('is the address itself for IPv4', () => {
    expect(senderKey('192.0.2.7')).toBe('192.0.2.7');
  });

  it('is the /64 for IPv6, however the address is written', () => {
    const key = '2001:db8:1:2::/64';
    expect(senderKey('2001:db8:1:2::1')).toBe(key);
    expect(senderKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe(key);
    expect(senderKey('2001:DB8:1:2:a:b:c:d')).toBe(key);
    expect(senderKey('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(senderKey('::1')).toBe('0:0:0:0::/64');
    expect(senderKey('2001:db8:1:3::1')).not.toBe(key);
  });
});

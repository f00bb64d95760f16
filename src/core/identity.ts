import { deriveKey, hmacHex } from './crypto.js';

/** HMAC of the lower-cased address: stable for joins and suppression, useless without the secret. */
export const emailHashFor = (secret: string, emailKey: string): string => hmacHex(deriveKey(secret, 'email'), emailKey);

/**
 * Pseudonymous client IP for the ledger and rate limits. IPv4 keeps its /24 and IPv6 its /48 before
 * hashing, which is enough to see abuse patterns and too little to identify a person.
 */
export function ipHashFor(secret: string, ip: string | undefined): string | null {
  if (!ip) return null;
  return hmacHex(deriveKey(secret, 'ip'), truncateIp(ip));
}

export function truncateIp(ip: string): string {
  const v4 = ip.replace(/^::ffff:/, '');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (ip.includes(':')) {
    const groups = expandIpv6(ip);
    if (groups) return `${groups.slice(0, 3).join(':')}::/48`;
  }
  return ip;
}

function expandIpv6(ip: string): string[] | undefined {
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  if (tail === undefined && h.length !== 8) return undefined;
  const fill = Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.toLowerCase());
}

/**
 * The small grammar pieces every reader shares: RFC 822-style field blocks (RFC 3464 §2.1 builds the
 * delivery-status body from them), addresses, RFC 3463 status codes and Message-IDs.
 */

export type FieldBlock = Map<string, string>;

/** An address as bounces print it: bare, <bracketed>, quoted, after `rfc822;`. */
export const ADDRESS =
  /[^\s<>,;:"()[\]{}|\\]{1,64}@[^\s<>,;:"'()[\]{}|\\=.]{1,63}(?:\.[^\s<>,;:"'()[\]{}|\\=.]{1,63}){1,8}/gi;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const VERP = new RegExp(`^(.+)\\+(${UUID})@[^@]+$`, 'i');

/**
 * `Name: value` lines grouped into blocks at blank lines, names lower-cased, continuation lines unfolded.
 * The first occurrence of a repeated field wins.
 */
export function parseFieldBlocks(body: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  let current: FieldBlock | undefined;
  let last: string | undefined;
  for (const line of body.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (current?.size) blocks.push(current);
      current = undefined;
      last = undefined;
    } else if (/^[ \t]/.test(line)) {
      if (current && last) current.set(last, `${current.get(last)} ${line.trim()}`.trim());
    } else {
      const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
      if (!m) {
        last = undefined;
        continue;
      }
      current ??= new Map();
      const name = m[1]!.toLowerCase();
      if (current.has(name)) {
        last = undefined;
        continue;
      }
      current.set(name, m[2]!.trim());
      last = name;
    }
  }
  if (current?.size) blocks.push(current);
  return blocks;
}

/** Every address in a text, in order, without repeats (compared without case). */
export function addressesIn(text: string | undefined): string[] {
  const found: string[] = [];
  for (const raw of text?.match(ADDRESS) ?? []) {
    const address = cleanAddress(raw);
    if (address && !found.some((f) => f.toLowerCase() === address.toLowerCase())) found.push(address);
  }
  return found;
}

/** Trailing dots and stray quoting around an address taken from prose; undefined when it is no address. */
export function cleanAddress(raw: string): string | undefined {
  const address = raw.replace(/^['`]+/, '').replace(/[.\-_]+$/, '');
  const at = address.lastIndexOf('@');
  if (at < 1 || !/\.[a-z0-9-]+$/i.test(address.slice(at))) return undefined;
  return address;
}

/** `rfc822; reader@example.com` (or `utf-8; …`, or a bare address) → the address. */
export function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bare = value.includes(';') ? value.slice(value.indexOf(';') + 1) : value;
  return addressesIn(bare)[0];
}

/** `5.1.1` from a Status field, or the first enhanced status code (RFC 3463) in a diagnostic. */
export function statusCode(value: string | undefined): string | undefined {
  return value ? /(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/.exec(value)?.[1] : undefined;
}

export function messageIdOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bracketed = /<[^<>\s]+@[^<>\s]+>/.exec(value)?.[0];
  if (bracketed) return bracketed;
  const bare = value.trim();
  return /^[^<>\s]+@[^<>\s]+$/.test(bare) ? `<${bare}>` : undefined;
}

/**
 * The delivery id from a VERP address (`bounces+<uuid>@domain`) among these header values. With
 * BOUNCE_ADDRESS set, only its local part counts; without it, any `+<uuid>@`.
 */
export function verpDeliveryId(values: (string | undefined)[], bounceAddress: string | undefined): string | undefined {
  const local = bounceAddress?.slice(0, bounceAddress.lastIndexOf('@')).toLowerCase();
  for (const value of values) {
    for (const address of value?.match(/[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g) ?? []) {
      const m = VERP.exec(address);
      if (m && (local === undefined || m[1]!.toLowerCase() === local)) return m[2]!.toLowerCase();
    }
  }
  return undefined;
}

/**
 * Email address validation and normalisation for signup forms.
 * We accept the dot-atom form of RFC 5322 §3.4.1 for the local part (no quoted strings, no comments) and
 * a DNS host name for the domain (RFC 5321 §4.1.2; IDNs converted to their A-label form per RFC 5891).
 * Length limits are RFC 5321 §4.5.3.1: local part ≤ 64 octets, address ≤ 254 (the 256-octet path minus "<>").
 */

const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export type EmailCheck = { ok: true; email: string; key: string } | { ok: false };

function toAsciiDomain(domain: string): string | undefined {
  if (/^[\x21-\x7e]+$/.test(domain)) return domain.toLowerCase();
  // The URL parser would drop a path, port, query or fragment and strip tabs: only a bare host name may go in.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are among what this pattern refuses
  if (/[\x00-\x20\x7f/?#:@\\[\]%]/.test(domain)) return undefined;
  try {
    // WHATWG URL applies UTS #46 processing: lower-cases and punycodes each label.
    return new URL(`http://${domain}/`).hostname;
  } catch {
    return undefined;
  }
}

export function checkEmail(input: unknown): EmailCheck {
  if (typeof input !== 'string') return { ok: false };
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 320) return { ok: false };
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return { ok: false };
  const local = trimmed.slice(0, at);
  const domain = toAsciiDomain(trimmed.slice(at + 1));
  if (!domain || domain.endsWith('.')) return { ok: false };

  if (local.length > 64) return { ok: false };
  const atoms = local.split('.');
  if (atoms.some((atom) => !ATEXT.test(atom))) return { ok: false };

  if (domain.length > 253) return { ok: false };
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((label) => !LABEL.test(label))) return { ok: false };
  const tld = labels[labels.length - 1]!;
  if (/^[0-9]+$/.test(tld)) return { ok: false };

  const email = `${local}@${domain}`;
  if (email.length > 254) return { ok: false };
  // The local part is case-sensitive in theory (RFC 5321 §2.4) but not in practice: uniqueness,
  // suppression and hashing use the lower-cased address, while delivery uses what was typed.
  return { ok: true, email, key: email.toLowerCase() };
}

/**
 * The mailbox a normalised address (`EmailCheck.key`) delivers to, for per-address rate limits only:
 * the sub-address tag of RFC 5233 ("reader+news@…") is dropped, so tagged variants share one budget and
 * cannot multiply the mail a victim gets. Identity, uniqueness and suppression still use the whole address.
 */
export function mailboxKey(key: string): string {
  const at = key.lastIndexOf('@');
  const plus = key.indexOf('+');
  return plus > 0 && plus < at ? key.slice(0, plus) + key.slice(at) : key;
}

/** The address part of a From header value: `Name <a@b>` → `a@b`. */
export function addressOf(from: string): string {
  const m = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from);
  return (m?.[1] ?? from).trim();
}

export const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** RFC 5322 §3.6.4: globally unique, and on our own domain so replies and bounces can be matched. */
export const messageIdFor = (id: string, domain: string): string => `<${id}@${domain}>`;

/**
 * RFC 2369 List-Unsubscribe with an https and a mailto target, plus RFC 8058 §3.1's
 * List-Unsubscribe-Post, which nodemailer does not add by itself. Mail providers show their own
 * "Unsubscribe" button only when both are present (and, for RFC 8058, DKIM covers them).
 */
export function listUnsubscribeHeaders(unsubscribeUrl: string, mailto: string): Record<string, string> {
  return {
    'List-Unsubscribe': listUnsubscribeValue(unsubscribeUrl, mailto),
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

/** The List-Unsubscribe field's value: the https target first (RFC 8058 §3.1 acts on it), then mailto. */
export const listUnsubscribeValue = (unsubscribeUrl: string, mailto: string): string =>
  `<${unsubscribeUrl}>, <${mailto}>`;

/** Where the mailto target of List-Unsubscribe points; quire's inbound mail handling listens on it. */
const unsubscribeAddress = (domain: string): string => `unsubscribe@${domain}`;

/** The mailto target of List-Unsubscribe (RFC 2369 §3.2): the token in the subject names the subscriber. */
export const unsubscribeMailto = (domain: string, token: string): string =>
  `mailto:${unsubscribeAddress(domain)}?subject=unsubscribe%20${token}`;

/**
 * The envelope sender of one delivery (VERP): BOUNCE_ADDRESS with `+<delivery id>` in its local part, so
 * a DSN (sent to the envelope sender, RFC 3464 §2 / RFC 5321 §4.5.5) names the delivery it belongs to even
 * when it names no recipient. core/inbound.ts reads the address back.
 */
export const verpAddress = (bounceAddress: string, deliveryId: string): string => {
  const at = bounceAddress.lastIndexOf('@');
  return `${bounceAddress.slice(0, at)}+${deliveryId}${bounceAddress.slice(at)}`;
};

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

/**
 * RFC 2919 List-Id: one list per topic, named under the sending domain (`<updates.example.com>`), so it
 * stays the same for as long as the topic and the domain do and mail filters can rely on it. The
 * phrase names the list for people; outside printable ASCII it is an RFC 2047 encoded-word.
 */
export function listIdValue(listName: string, topic: string, domain: string): string {
  return `${phrase(listName)} <${topic}.${domain}>`;
}

function phrase(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return `"${text.replace(/["\\]/g, '\\$&')}"`;
  // RFC 2047 §2: an encoded-word is at most 75 characters, so the text is cut on character boundaries.
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join(' ');
}

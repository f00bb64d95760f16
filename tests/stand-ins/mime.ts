/** MIME helpers for the stand-ins that take raw messages (SES, Mailgun) or report what arrived. */

/** Header fields of a MIME message as written (unfolded, RFC 5322 §2.2.3), by lower-case name, in order. */
export function headerFields(raw: Buffer | string): Map<string, string[]> {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const fields = new Map<string, string[]>();
  for (const line of (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** Has a header section and a body, separated by an empty line (RFC 5322 §2.1). */
export const hasHeaderAndBody = (text: string): boolean => /\r?\n\r?\n/.test(text);

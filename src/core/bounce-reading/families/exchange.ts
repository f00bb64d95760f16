import { addressBlocks, between, candidates, paragraphAbout } from '../prose.js';
import type { ProseFailure } from '../types.js';
import type { Family } from './family.js';

/**
 * Microsoft Exchange and Office 365 / Outlook.com, when the report's text is all there is (or the
 * delivery-status part lost its way). Exchange 2003: "Your message … did not reach the following
 * recipient(s):" with `address on <date>` and the reason indented. Exchange 2007 and later: "Delivery has
 * failed to these recipients or groups:" and, under "Diagnostic information for administrators", the
 * address followed by `#550 5.1.1 RESOLVER.ADR.RecipNotFound; …` or "Remote Server returned '…'".
 * "Delivery is delayed to these recipients" is soft.
 */
const LEGACY =
  /did not reach the following recipient\(s\):|your message did not reach some or all of the intended recipients/i;
const MODERN =
  /delivery has failed to these recipients or (?:groups|distribution lists)|delivery is delayed to these recipients|your message to .{1,200}? couldn't be delivered|couldn't be delivered to the following recipients|message wasn't delivered to anyone because|diagnostic information for administrators|the following recipient\(s\) (?:cannot be reached|could not be reached)|remote server returned '/i;
const ADMIN = /diagnostic information for administrators:?/i;
const END = /original message headers:?|^_{10,}|^-{10,}/im;

export const exchange: Family = {
  name: 'exchange',
  matches: (mail) => LEGACY.test(mail.body) || MODERN.test(mail.body),
  read(mail, own) {
    const hint =
      /delivery is delayed|delay/i.test(mail.subject) || /delivery is delayed to these/i.test(mail.body)
        ? ('soft' as const)
        : undefined;
    if (LEGACY.test(mail.body)) {
      const section = between(mail.report, LEGACY) ?? '';
      return addressBlocks(section, own).map((f) => ({ ...f, hint }));
    }
    const admin = between(mail.body, ADMIN, END) ?? '';
    const prose = between(mail.report, undefined, ADMIN) ?? mail.report;
    const emails = [...new Set([...candidates(prose, own), ...candidates(admin, own)])];
    const out: ProseFailure[] = [];
    for (const email of emails.slice(0, 20)) {
      const technical = technicalLine(admin, email) ?? technicalLine(prose, email);
      out.push({ email, diagnostic: [technical, paragraphAbout(prose, email)].filter(Boolean).join(' '), hint });
    }
    return out;
  },
};

/** The `#550 5.1.1 …##` or "Remote Server returned '…'" line that follows an address. */
function technicalLine(text: string, email: string): string | undefined {
  const at = text.toLowerCase().indexOf(email.toLowerCase());
  const after = at === -1 ? text : text.slice(at);
  return /#\s?([45]\d\d[^#\n]*(?:\n[^#\n]+)*?)\s*##|remote server returned '([^']+)'|(\b[45]\d\d[ -][45]\.\d+\.\d+[^\n]*)/i
    .exec(after)
    ?.slice(1)
    .find(Boolean)
    ?.replace(/\s+/g, ' ')
    .trim();
}

import { between, candidates } from '../prose.js';
import type { Family } from './family.js';

/**
 * IBM/HCL Domino and Lotus Notes. Domino: "Your message … was not delivered to: <address> because:
 * <reason>" (the subject often repeats it: "DELIVERY FAILURE: User … not listed in Domino Directory").
 * Notes' older SMTP MTA: "------- Failure Reasons --------" with the reason, then the address.
 */
const DOMINO = /was not delivered to:?/i;
const NOTES = /-{3,} ?failure reasons ?-{3,}/i;

export const domino: Family = {
  name: 'domino',
  matches: (mail) => (DOMINO.test(mail.body) && /because:?/i.test(mail.body)) || NOTES.test(mail.body),
  read(mail, own) {
    if (NOTES.test(mail.body)) {
      const section = between(mail.body, NOTES, /-{3,} ?returned message|^\s*-{5,}/im) ?? '';
      const reason = section
        .split('\n')
        .filter((l) => l.trim() && !l.includes('@'))
        .join(' ')
        .trim();
      return candidates(section, own).map((email) => ({ email, diagnostic: reason }));
    }
    const to = between(mail.body, DOMINO, /because:?/i) ?? '';
    const reason =
      between(mail.body, /because:?/i, /^\s*-{3,}|^original message/im)
        ?.replace(/\s+/g, ' ')
        .trim() ?? '';
    return candidates(to, own).map((email) => ({
      email,
      diagnostic: [reason, /delivery failure:(.*)/i.exec(mail.subject)?.[1] ?? ''].join(' ').trim(),
    }));
  },
};

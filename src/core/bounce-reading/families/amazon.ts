import { between, candidates, paragraphAbout } from '../prose.js';
import type { Family } from './family.js';

/**
 * Amazon SES and Amazon WorkMail. SES: "The following message to <address> was undeliverable. The
 * reason for the problem: …" (its delivery-status part is read first when it is there). WorkMail: "An
 * error occurred while trying to deliver the mail to the following recipients:" with the addresses
 * one a line and, under "Technical report:", RFC 3464 fields pasted into the text.
 */
const START =
  /the following message to <?[^\s<>]+@[^\s<>]+?>? was undeliverable|an error occurred while trying to deliver the mail to the following recipients|amazon ses has suppressed sending to this address|was not delivered to the following recipients? because/i;
const REASON = /the reason for the problem:?|technical report:?|diagnostic-code:/i;

export const amazon: Family = {
  name: 'amazon',
  matches: (mail) => START.test(mail.body),
  read(mail, own) {
    const text = mail.report;
    const inline = [...text.matchAll(/message to <?([^\s<>]+@[^\s<>]+?)>? was undeliverable/gi)].map((m) => m[1]!);
    const listed = between(text, /to the following recipients?:?/i, /^\s*$|technical report/im) ?? '';
    const emails = [...new Set([...inline.flatMap((a) => candidates(a, own)), ...candidates(listed, own)])];
    const reason = between(text, REASON)?.replace(/\s+/g, ' ').trim() ?? '';
    return emails.map((email) => ({
      email,
      diagnostic: [reason, paragraphAbout(text, email)].filter(Boolean).join(' '),
    }));
  },
};

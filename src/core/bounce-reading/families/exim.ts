import { addressesIn } from '../fields.js';
import { addressBlocks, between, candidates, smtpReply } from '../prose.js';
import type { Family } from './family.js';

/**
 * Exim (and what is built on it: cPanel, 1&1/IONOS, GMX, mail.ru, Yandex, MXLogic): "This message was
 * created automatically by mail delivery software." with the failed addresses indented under "The
 * following address(es) failed:", and X-Failed-Recipients in the header. The delay warning ("has not yet
 * been delivered … on the queue") is soft.
 */
const START =
  /(?:following address(?:\(es\)|es)? failed|following recipients? failed|could not be delivered to one or more(?: of its)?\s+recipients|has not yet been delivered to one or more of its\s+recipients|message that you (?:have )?sent could not be delivered|created automatically by mail delivery software)/i;
const LIST =
  /(?:address(?:\(es\)|es)?|recipients?)\s+(?:failed|could not be delivered)[^\n]*:?|this is a permanent error\.?[^\n]*\n|has not yet been delivered is:?\s*\n|delayed[^\n]*:\s*\n/i;
const END =
  /^[ \t]*-{2,}[ \t]*(?:this is a copy|the header of the original|original message|below this line)|^included is a copy|^[ \t]*-+ ?the following text was generated|^For the following reason|^no action is required on your part/im;

export const exim: Family = {
  name: 'exim',
  matches: (mail) => START.test(mail.body),
  read(mail, own) {
    const delayed = /has not yet been delivered|^warning: message .* delayed/im.test(`${mail.subject}\n${mail.body}`);
    const hint = delayed ? ('soft' as const) : undefined;
    const section = between(mail.report, LIST, END) ?? between(mail.report, START, END) ?? '';
    // 1&1/IONOS print the reason after the list, under "For the following reason:".
    const reason = between(mail.report, /for the following reason:?/i, END)?.trim();
    const blocks = addressBlocks(section, own).map((f) => ({
      ...f,
      diagnostic: f.diagnostic || reason || smtpReply(section) || section.trim(),
      hint,
    }));
    if (blocks.length) return blocks;
    // An Exim that names local recipients without their domain: the header has them whole.
    const failed = addressesIn(mail.header('x-failed-recipients'));
    const named = failed.length ? failed : candidates(section, own).slice(0, 1);
    return named.map((email) => ({
      email,
      diagnostic: [reason, smtpReply(section) ?? section.replace(/\s+/g, ' ').trim()].filter(Boolean).join(' '),
      hint,
    }));
  },
};

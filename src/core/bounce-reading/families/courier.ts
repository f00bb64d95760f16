import { addressBlocks, between } from '../prose.js';
import type { Family } from './family.js';

/**
 * Courier: "This is a delivery status notification from …, running the Courier mail server", an
 * "UNDELIVERABLE MAIL" (or "DELAYED MAIL") banner, then `<address>:` with the SMTP dialogue
 * (`>>> RCPT TO`, `<<< 550 …`) indented under it.
 */
const START =
  /running the courier mail server|courier mail server at|(?:undeliverable|delayed) mail\s*\n|your message to the following recipients cannot be delivered|has not yet been delivered to the following recipients/i;
const LIST =
  /cannot be delivered:|following recipients has not yet been delivered[^\n]*\n(?:[^\n]*:\n)?|has not (?:yet )?been delivered to the following recipients:?|following recipients:/i;
const END = /^-{10,}|if your message was also sent to additional recipients|the original message follows/im;

export const courier: Family = {
  name: 'courier',
  matches: (mail) => START.test(mail.body) && LIST.test(mail.body),
  read(mail, own) {
    const section = between(mail.report, LIST, END) ?? '';
    const hint = /delayed mail|has not yet been delivered/i.test(mail.body) ? ('soft' as const) : undefined;
    return addressBlocks(section, own).map((f) => ({ ...f, hint }));
  },
};

import { addressBlocks, between } from '../prose.js';
import type { Family } from './family.js';

/**
 * qmail and its descendants (netqmail, qmail-ldap, vpopmail, Plesk, many hosting panels): "Hi. This is
 * the qmail-send program at …", then `<address>:` and the remote reply, each ending in a `(#x.y.z)` code,
 * then "--- Below this line is a copy of the message."
 */
const START =
  /this is the qmail-send program|i'm afraid i wasn't able to deliver your message to the following addresses|your mail message to the following address\(es\) could not be delivered|this is the (?:\w+ )?(?:mail ?)?(?:deliver|delivery|send) program at/i;
const END = /^-{2,} ?(?:below this line|enclosed is|attachment is|original message)/im;

export const qmail: Family = {
  name: 'qmail',
  matches: (mail) => START.test(mail.body),
  read(mail, own) {
    const section = between(mail.body, START, END) ?? '';
    // "I'm not going to try again; this message has been in the queue too long" is qmail's expiry.
    const expired = /in the queue too long|not going to try again/i.test(section);
    return addressBlocks(section, own).map((f) => ({ ...f, hint: expired ? 'soft' : undefined }));
  },
};

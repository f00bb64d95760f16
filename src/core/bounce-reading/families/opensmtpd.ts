import { addressBlocks, between } from '../prose.js';
import type { Family } from './family.js';

/**
 * OpenSMTPD: "This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail." then one
 * `address: reply` line per recipient, then "Below is a copy of the original message:". Its delay
 * notice ("Delays have been encountered") is soft.
 */
const START =
  /an error has occurred while attempting to deliver a message for\s+the following list of recipients:|delays have been encountered|this is the mailer-daemon, please do not reply to this e-?mail|your message could not be delivered to one or more recipients|error\(s\) while attempting to deliver/i;
const END = /below is a copy of the original message|^\s*-+ ?original message/im;

export const opensmtpd: Family = {
  name: 'opensmtpd',
  matches: (mail) =>
    /this is the mailer-daemon, please do not reply|opensmtpd/i.test(mail.body) && START.test(mail.body),
  read(mail, own) {
    const section =
      between(mail.body, /following list of recipients:|recipients?:\s*\n/i, END) ??
      between(mail.body, START, END) ??
      '';
    const hint = /delays have been encountered|will (?:continue|retry)/i.test(mail.body)
      ? ('soft' as const)
      : undefined;
    return addressBlocks(section, own).map((f) => ({ ...f, hint }));
  },
};

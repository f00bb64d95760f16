import { addressBlocks, between, candidates, paragraphAbout } from '../prose.js';
import type { Family } from './family.js';

/**
 * Yahoo (and AOL since it moved to Yahoo's servers): "Sorry, we were unable to deliver your message to
 * the following address." then `<address>:` and "Remote host said: …", then "--- Below this line is a
 * copy of the message." The older "Message from yahoo.com. Unable to deliver message to the following
 * address(es)." reads the same. AOL's own older notice says "could not be delivered to:" with the
 * addresses under it.
 */
const START =
  /sorry,? we were unable to deliver your message to the following address|message from yahoo\.\w+\.?\s+unable to deliver message to the following address|unable to deliver message to the following address\(es\)|the mail you sent could not be delivered to:|your mail to the following recipients could not be delivered/i;
const END = /^-{2,} ?(?:below this line|original message)|^\s*-{5,}/im;

export const yahooAol: Family = {
  name: 'yahoo-aol',
  matches: (mail) => START.test(mail.body),
  read(mail, own) {
    const section = between(mail.body, START, END) ?? '';
    const hint = /temporar|delay|will (?:continue|retry)|try again later/i.test(
      between(mail.body, undefined, START) ?? '',
    )
      ? ('soft' as const)
      : undefined;
    const blocks = addressBlocks(section, own);
    if (blocks.length) return blocks.map((f) => ({ ...f, hint }));
    return candidates(section, own).map((email) => ({
      email,
      diagnostic: paragraphAbout(section, email) || section.replace(/\s+/g, ' ').trim(),
      hint,
    }));
  },
};

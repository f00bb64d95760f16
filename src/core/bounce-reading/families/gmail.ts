import { addressesIn } from '../fields.js';
import { between, candidates, paragraphAbout } from '../prose.js';
import type { ProseFailure } from '../types.js';
import type { Family } from './family.js';

/**
 * Gmail and Google Workspace. The older text: "Delivery to the following recipient failed permanently:"
 * with the address indented, then "Technical details of permanent failure:". The current one: a headline
 * such as "** Address not found **" or "** Message blocked **", "Your message wasn't delivered to …",
 * then "The response from the remote server was:". "has been delayed" and "Delivery incomplete" are
 * soft. Google Groups' "the group you tried to contact … may not exist" names the group in
 * X-Failed-Recipients.
 */
const START =
  /delivery to the following recipients? (?:failed permanently|has been delayed|failed)|\*\* ?(?:address not found|message blocked|message not delivered|delivery incomplete|mail quota exceeded|message rejected|recipient inbox full|delivery failed)|your message wasn't delivered to|there was a (?:temporary )?problem delivering your message to|the group you tried to contact|google tried to deliver your message|message (?:to .{1,100}? )?has been blocked/i;
const TECHNICAL =
  /technical details of (?:permanent|temporary) failure:?|the response (?:from the remote server )?was:|the error that the other server returned was:|learn more at|response from the remote server:/i;
const END = /^-{3,} ?original message|^-{3,} ?message truncated|^\s*-{3,}\s*$|^\s*----- /im;

export const gmail: Family = {
  name: 'gmail',
  matches: (mail) => START.test(mail.body),
  read(mail, own) {
    const text = mail.report;
    const hint = /has been delayed|delivery incomplete|temporary problem|will retry|temporary failure/i.test(text)
      ? ('soft' as const)
      : undefined;
    const technical = between(text, TECHNICAL, END)?.replace(/\s+/g, ' ').trim() ?? '';
    const headline = /\*\* ?([^*\n]+?) ?\*\*/.exec(text)?.[1] ?? '';
    const listed =
      between(text, /delivery to the following recipients? [^:\n]*:/i, /technical details|^\s*$\n^\S/im) ?? '';
    const inline = [
      ...text.matchAll(/(?:delivered to|message to|delivering your message to)\s+<?([^\s<>]+@[^\s<>,;]+)/gi),
    ].map((m) => m[1]!);
    const group = /the group you tried to contact/i.test(text) ? addressesIn(mail.header('x-failed-recipients')) : [];
    const emails = [...new Set([...candidates(listed, own), ...inline.flatMap((a) => candidates(a, own)), ...group])];
    const named = emails.length ? emails : addressesIn(mail.header('x-failed-recipients'));
    const out: ProseFailure[] = named.map((email) => ({
      email,
      diagnostic: [headline, paragraphAbout(between(text, undefined, TECHNICAL) ?? text, email), technical]
        .filter(Boolean)
        .join(' ')
        .trim(),
      hint,
    }));
    return out;
  },
};

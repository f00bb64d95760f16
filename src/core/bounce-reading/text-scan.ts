import { addressesIn } from './fields.js';
import type { MailView } from './message.js';
import { addressBlocks, candidates, paragraphAbout, smtpReply, unique } from './prose.js';
import type { ProseFailure } from './types.js';

/**
 * The last resort, for a bounce no family module knows: the failed recipients are the addresses the
 * report sets apart (`<address>: reason` lines, `address... reason`, X-Failed-Recipients), or else the
 * first address it mentions that is neither ours nor the reporter's; the reason is the SMTP reply or the
 * paragraph around the address. It reads only messages the gate let through, and only when the report
 * speaks of a failure.
 */
const FAILURE =
  /could ?n[o']t|can ?n[o']t|unable to|wasn't able|was not (?:able|delivered|accepted)|not be delivered|undeliver|failed|failure|rejected|permanent|fatal|bounced|returned|denied|does not exist|doesn't exist|unknown|invalid|no such|blocked|refused|delayed|not (?:yet )?(?:been )?delivered|not reach|did not respond|over quota|mailbox (?:is )?full|nicht zugestellt|unzustellbar|non (?:remis|recapitabile)/i;
const EVIDENCE =
  /(?:^|[\s:'"(])[45]\d\d(?:[\s-]|$)|[45]\.\d{1,3}\.\d{1,3}|user|mailbox|recipient|address|account|unknown|not found|exist|full|quota|blocked|rejected|denied|refused|failed|invalid/i;
const SUCCESS =
  /(?:was|were|has been|have been) (?:successfully )?(?:delivered|relayed)|delivery (?:to the following recipients? )?(?:was )?(?:succeeded|successful|complete)|successfully delivered/i;

export function scanText(mail: MailView, own: Set<string>): ProseFailure[] {
  const text = mail.report.trim() ? mail.report : mail.body;
  if (!FAILURE.test(text) && !FAILURE.test(mail.subject)) return [];
  if (SUCCESS.test(text) && !FAILURE.test(text)) return [];
  const blocks = addressBlocks(text, own).filter((b) => EVIDENCE.test(b.diagnostic));
  if (blocks.length) return unique(blocks).slice(0, 20);
  const dotted = [...text.matchAll(/<?([^\s<>]+@[^\s<>]+?)>?\.\.\.\s*([^\n]*)/g)].flatMap((m) =>
    candidates(m[1]!, own).map((email) => ({ email, diagnostic: m[0].trim() })),
  );
  if (dotted.length) return unique(dotted);
  const failed = addressesIn(mail.header('x-failed-recipients'));
  const emails = failed.length ? failed : candidates(text, own).slice(0, 1);
  const reply = smtpReply(text);
  return emails.map((email) => ({
    email,
    diagnostic: [paragraphAbout(text, email), reply].filter(Boolean).join(' ') || mail.subject,
  }));
}

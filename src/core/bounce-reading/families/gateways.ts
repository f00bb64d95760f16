import { addressBlocks, between, candidates, paragraphAbout, smtpReply } from '../prose.js';
import type { ProseFailure } from '../types.js';
import type { Family } from './family.js';

/**
 * Security gateways and filtering appliances that write their own notices: Barracuda, Symantec
 * MessageLabs (Email Security.cloud), Mimecast, Proofpoint, McAfee, Trend Micro InterScan, MailMarshal,
 * SurfControl, MailFoundry. Each is a marker sentence, where its recipients are listed, and where its
 * reason is; what the reason means is left to the classifier.
 */
interface Gateway {
  name: string;
  marker: RegExp;
  /** The stretch of text that lists the recipients. */
  recipients: RegExp;
  /** Where the reason starts, when it is not beside the address. */
  reason?: RegExp;
}

const GATEWAYS: Gateway[] = [
  {
    name: 'barracuda',
    marker: /blocked by (?:our|the) (?:spam firewall|barracuda)|barracuda networks? (?:spam firewall|email security)/i,
    recipients: /your message to:?/i,
  },
  {
    name: 'messagelabs',
    marker: /this is the mail delivery agent at (?:messagelabs|symantec email security)|messagelabs\.com/i,
    recipients: /unable to deliver your message to the following addresses:?/i,
    reason: /^reason:/im,
  },
  {
    name: 'mimecast',
    marker: /mimecast|your message couldn't be delivered to the recipients? shown below/i,
    recipients: /recipients?(?: shown below)?:|the following recipients?[^:\n]*:/i,
    reason: /reason:|rejection reason/i,
  },
  {
    name: 'proofpoint',
    marker: /proofpoint|pphosted/i,
    recipients: /following recipients?[^:\n]*:|could not be delivered to:?/i,
    reason: /reason:/i,
  },
  {
    name: 'mcafee',
    marker: /-{3} the following addresses had delivery problems -{3}/i,
    recipients: /delivery problems -{3}/i,
  },
  {
    name: 'interscan',
    marker: /sent <<< rcpt to:|received >>> [45]\d\d|interscan|trend micro/i,
    recipients: /rcpt to:|unable to deliver message to/i,
  },
  {
    name: 'mailmarshal',
    marker: /the following recipients were affected:|mailmarshal/i,
    recipients: /the following recipients were affected:?/i,
    reason: /could not be delivered because of/i,
  },
  {
    name: 'surfcontrol',
    marker: /a transcript of the attempts to send the message follows|surfcontrol/i,
    recipients: /addressed to:/i,
    reason: /failed to send to identified host,?/i,
  },
  {
    name: 'mailfoundry',
    marker: /delivery failed for the following reason:/i,
    recipients: /unable to deliver message to:?/i,
    reason: /delivery failed for the following reason:?/i,
  },
];

/** The first paragraph of a text, blank lines before it skipped. */
const firstParagraph = (text: string | undefined) =>
  text
    ?.replace(/^\s+/, '')
    .split(/\n[ \t]*\n/)[0]
    ?.replace(/\s+/g, ' ')
    .trim();

export const gateways: Family = {
  name: 'gateways',
  matches: (mail) => GATEWAYS.some((g) => g.marker.test(mail.body)),
  read(mail, own) {
    for (const g of GATEWAYS.filter((x) => x.marker.test(mail.body))) {
      const section = between(mail.report, g.recipients) ?? '';
      const reason = g.reason ? firstParagraph(between(mail.report, g.reason)) : undefined;
      const blocks = addressBlocks(section, own).filter((b) => b.diagnostic || reason);
      const found: ProseFailure[] = blocks.length
        ? blocks.map((b) => ({ ...b, diagnostic: [b.diagnostic, reason].filter(Boolean).join(' ') }))
        : candidates(section, own)
            .slice(0, 10)
            .map((email) => ({
              email,
              diagnostic: [reason, paragraphAbout(section, email), smtpReply(section)].filter(Boolean).join(' '),
            }));
      if (found.length) return found.map((f) => (f.diagnostic ? f : { ...f, diagnostic: mail.subject }));
    }
    return [];
  },
};

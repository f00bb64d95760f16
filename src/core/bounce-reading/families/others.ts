import { addressBlocks, between, candidates, paragraphAbout, smtpReply } from '../prose.js';
import type { ProseFailure } from '../types.js';
import type { Family } from './family.js';

/**
 * Smaller MTAs and services with prose of their own, each recognised by its sentences:
 * - IMail (SMTP32): "Unknown user: <address>" / "Body of message generated response:";
 * - Apache James and the Verizon/vtext gateway built on it: "Error message below:" and "RCPT TO: <address>";
 * - DragonFly Mail Agent: "There was an error delivering your mail to <address>.";
 * - Zoho: "<address>, ERROR CODE :550 - …";
 * - Biglobe and other Japanese ISPs: "----- The following addresses had delivery problems -----";
 * - FML mailing lists: "Your mail to the following address(es) could not be delivered".
 */
interface Mta {
  name: string;
  marker: RegExp;
  read: (text: string, own: Set<string>) => ProseFailure[];
}

const MTAS: Mta[] = [
  {
    name: 'imail',
    marker: /^(?:unknown user|user mailbox exceeds allowed size|body of message generated response):/im,
    read: (text, own) =>
      [...text.matchAll(/^([\w ]+):\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$/gim)]
        .filter((m) => candidates(m[2]!, own).length)
        .map((m) => ({ email: candidates(m[2]!, own)[0], diagnostic: m[1]!.trim() }))
        .concat(/body of message generated response:/i.test(text) ? bodyResponse(text, own) : []),
  },
  {
    name: 'james',
    marker: /this is the james mail server|error message below:|^\s*rcpt to:\s*\S+@/im,
    read: (text, own) => {
      const rcpt = /^\s*rcpt to:\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$/im.exec(text)?.[1];
      const reason = between(text, /error message below:?|^error:/im, /^\s*message details:?|^\s*$\n^\s*$/im)
        ?.replace(/\s+/g, ' ')
        .trim();
      const emails = rcpt
        ? candidates(rcpt, own)
        : candidates(between(text, /following addresses\.?/i, /error message below/i) ?? '', own);
      return emails.map((email) => ({
        email,
        diagnostic: `${/^error: ([^\n]*)/im.exec(text)?.[1] ?? ''} ${reason ?? ''}`.trim(),
      }));
    },
  },
  {
    name: 'dragonfly',
    marker: /this is the dragonfly mail agent|there was an error delivering your mail to/i,
    read: (text, own) =>
      candidates(/error delivering your mail to <?([^\s<>]+@[^\s<>]+)/i.exec(text)?.[1] ?? '', own).map((email) => ({
        email,
        diagnostic: (between(text, /error delivering your mail to[^\n]*\n/i, /message headers follow/i) ?? '')
          .replace(/\s+/g, ' ')
          .trim(),
      })),
  },
  {
    name: 'zoho',
    marker: /,\s*error code\s*:\s*\d{3}/i,
    read: (text, own) =>
      [...text.matchAll(/<?([^\s<>,]+@[^\s<>,]+?)>?,\s*error code\s*:\s*(.*)/gi)].flatMap((m) =>
        candidates(m[1]!, own).map((email) => ({ email, diagnostic: m[2]!.trim() })),
      ),
  },
  {
    name: 'biglobe',
    marker: /-{3,} the following addresses had delivery problems -{3,}/i,
    read: (text, own) => {
      const section = between(text, /delivery problems -+/i) ?? '';
      return candidates(section, own).map((email) => ({
        email,
        diagnostic: paragraphAbout(section, email) || section.replace(/\s+/g, ' ').trim(),
      }));
    },
  },
  {
    name: 'fml',
    marker: /your mail to the following address(?:\(es\)|es)? could not be delivered|fml (?:mailing list|system)/i,
    read: (text, own) => addressBlocks(between(text, /could not be delivered[^\n]*\n/i) ?? text, own),
  },
];

function bodyResponse(text: string, own: Set<string>): ProseFailure[] {
  const response = between(text, /body of message generated response:/i, /original message follows/i) ?? '';
  return candidates(response, own).map((email) => ({ email, diagnostic: smtpReply(response) ?? response.trim() }));
}

export const others: Family = {
  name: 'others',
  matches: (mail) => MTAS.some((m) => m.marker.test(mail.body)),
  read(mail, own) {
    for (const mta of MTAS.filter((m) => m.marker.test(mail.body))) {
      const found = mta.read(mail.report, own);
      if (found.length) return found;
    }
    return [];
  },
};

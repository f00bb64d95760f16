import { cleanAddress } from '../fields.js';
import { addressBlocks, between, candidates, paragraphAbout, smtpReply, unique } from '../prose.js';
import type { ProseFailure } from '../types.js';
import type { Family } from './family.js';

/**
 * Sendmail and the MTAs that copy its text (Active!Hunter, Bigfoot, many appliances), and Postfix, when
 * the delivery-status part is missing or unreadable. Sendmail: "----- The following addresses had
 * permanent fatal errors -----", the addresses with "(reason: …)", then "----- Transcript of session
 * follows -----" with `>>> RCPT To:<…>` / `<<< 550 …` and `550 <address>... User unknown`. Its warnings
 * ("THIS IS A WARNING MESSAGE ONLY", "transient non-fatal errors") are soft. Postfix: "This is the mail
 * system at host …" and, under "The mail system", `<address>: host … said: …`; "THIS IS A WARNING ONLY"
 * is soft.
 */
const SENDMAIL =
  /-{3,} ?the following addresses? (?:had|has) (?:permanent fatal|transient non-fatal|delivery problems|permanent errors?)|-{3,} ?transcript of session follows|\*\* +this is a warning message only|-{3,} ?unsent message follows/i;
const POSTFIX =
  /this is the (?:mail system|postfix program) at host|i'm sorry to have to inform you that your message could not\s+be delivered|#+ this is a warning only|^\s+the (?:mail system|postfix program)\s*$/im;
const WARNING =
  /this is a warning (?:message )?only|transient non-fatal|will (?:continue|keep) trying|has not yet been delivered|delayed/i;

export const sendmailPostfix: Family = {
  name: 'sendmail-postfix',
  matches: (mail) => SENDMAIL.test(mail.body) || POSTFIX.test(mail.body),
  read(mail, own) {
    const hint = WARNING.test(mail.report) || WARNING.test(mail.subject) ? ('soft' as const) : undefined;
    const failures = SENDMAIL.test(mail.body) ? sendmail(mail.report, own) : postfix(mail.report, own);
    return failures.map((f) => ({ ...f, hint }));
  },
};

function sendmail(text: string, own: Set<string>): ProseFailure[] {
  const listed = between(text, /-{3,} ?the following addresses? (?:had|has)[^\n]*\n/i, /^\s*-{3,}/m) ?? '';
  const transcript =
    between(
      text,
      /-{3,} ?transcript of session follows ?-*/i,
      /^\s*-{3,} ?(?:original|unsent|returned) message|^\s*-{5,}\s*$/im,
    ) ?? '';
  const found: ProseFailure[] = [];
  for (const email of candidates(listed, own)) {
    const reason = /\(reason: ([^)]*)\)?/i.exec(paragraphAbout(listed, email))?.[1];
    found.push({ email, diagnostic: reason ?? transcriptAbout(transcript, email) ?? smtpReply(transcript) ?? '' });
  }
  // `550 5.1.1 <addr>... User unknown` and `>>> RCPT To:<addr>` / `<<< 550 …` in the transcript.
  for (const m of transcript.matchAll(/<?([^\s<>]+@[^\s<>]+?)>?\.\.\.\s*(.*)/g)) {
    const email = cleanAddress(m[1]!);
    if (email && !own.has(email.toLowerCase())) found.push({ email, diagnostic: m[0].trim() });
  }
  for (const m of transcript.matchAll(/>>> RCPT TO:\s*<([^>]+)>[^\n]*\n<<< ([^\n]*)/gi)) {
    const email = cleanAddress(m[1]!);
    if (email && !own.has(email.toLowerCase())) found.push({ email, diagnostic: m[2]!.trim() });
  }
  return unique(found);
}

function transcriptAbout(transcript: string, email: string): string | undefined {
  const lines = transcript
    .split('\n')
    .filter((l) => l.toLowerCase().includes(email.toLowerCase()) && /[45]\d\d/.test(l));
  return lines.length ? lines.join(' ').trim() : undefined;
}

function postfix(text: string, own: Set<string>): ProseFailure[] {
  const section = between(text, /^\s+the (?:mail system|postfix program)\s*$/im) ?? between(text, POSTFIX) ?? text;
  return addressBlocks(section, own);
}

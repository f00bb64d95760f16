import type { MailView } from './message.js';

/**
 * Whether a message may be a bounce at all, before any prose is read. Auto-replies go to the envelope
 * sender just as bounces do (RFC 3834 §4) and often quote the message they answer; they are told apart
 * by their own marks (RFC 3834 §5 Auto-Submitted, the X-Autoreply family, their subjects) unless the
 * message also carries a bounce's marks.
 */

const DAEMON_SENDER =
  /mailer[-_ ]?daemon|post_?master|mail delivery|delivery (?:status|subsystem|system|notification)|mail ?(?:administrator|system|server|gateway)|\bmailer\b|mdaemon|smtp ?gateway|nobody@|\bdaemon@|returned mail|symantec|messagelabs|mimecast|barracuda|proofpoint|content.filter/i;

const BOUNCE_SUBJECT =
  /undeliver|not (?:been )?delivered|delivery (?:status|failure|failed|has failed|problem|report|error|notification|incomplete|delayed|notice)|failure notice|failed delivery|returned mail|mail delivery|returned to sender|non.?delivery|(?:could|can) ?not (?:be )?deliver|couldn't be delivered|unable to deliver|(?:mail|message) (?:error|failure|blocked|rejected|not delivered|bounced|returned|undeliverable|could not)|bounced|nicht zustellbar|unzustellbar|non recapitabile|no entregado|non remis|impossible de remettre|warning: (?:message|could not|delayed)|delayed mail|\b(?:dsn|ndn|ndr)\b|error sending|failed mail|mail system error|could not send|delivery failure|system administrator/i;

const AUTO_REPLY_SUBJECT =
  /^\s*(?:auto(?:matic)?[ _-]?(?:reply|response|antwort|risposta)|autoreply|out of (?:the )?office|away from|on vacation|vacation|on leave|abwesen|absence|r[ée]ponse automatique|automatische antwort|respuesta autom|risposta automatica|fuera de la oficina|i am (?:currently )?(?:out|away)|thank you for (?:your|contacting))/i;

/** Replies and forwards written by a person: a bounce quoted in them is not ours to read. */
const HUMAN_REPLY_SUBJECT = /^\s*(?:re|fwd?|fw|aw|wg|tr|sv|vs|rv|enc)\s*(?:\[\d+\])?\s*:/i;

/** Challenge-response systems answer with a DSN-shaped "prove you are human": no failure of the address. */
const CHALLENGE =
  /sender not pre-?approved|(?:has been|was) waitlisted|guest list|challenge[- ]response|(?:verify|confirm) (?:that )?you are (?:a )?(?:human|real person)|spam ?arrest|\bboxbe\b|mailblocks|sender verification (?:request|required)/i;

export const isChallenge = (mail: MailView) =>
  CHALLENGE.test(mail.report) || mail.statusParts.some((p) => CHALLENGE.test(p));

export const isDaemonSender = (mail: MailView) =>
  DAEMON_SENDER.test(mail.from) || mail.from.trim() === '' || /^<?>?$/.test(mail.from.trim());

export function isAutoReply(mail: MailView): boolean {
  if (AUTO_REPLY_SUBJECT.test(mail.subject)) return true;
  if (mail.header('x-autoreply') || mail.header('x-autorespond') || mail.header('x-autoresponder')) return true;
  if (/auto[-_]?reply/i.test(mail.header('precedence') ?? '')) return true;
  // Exim marks its bounces auto-replied too (RFC 3834 §5): the mark alone only counts from a person.
  return (
    /auto-replied/i.test(mail.header('auto-submitted') ?? '') &&
    !isDaemonSender(mail) &&
    !BOUNCE_SUBJECT.test(mail.subject)
  );
}

/** Mailing-list and bulk mail (RFC 2369 List-* fields) is never a bounce, whatever its subject says. */
const isListMail = (mail: MailView) =>
  !!(mail.header('list-unsubscribe') || mail.header('list-id') || mail.header('list-post'));

/**
 * Strong enough for the generic text scan, which has no family sentence to go by: a daemon sender, or a
 * bounce's subject on a message sent with the null return path or marked auto-generated (RFC 3834 §5).
 */
export function isBounceSender(mail: MailView): boolean {
  if (isDaemonSender(mail) || mail.header('x-failed-recipients')) return true;
  const nullPath = /^\s*<?\s*>?\s*$/.test(mail.header('return-path') ?? 'x');
  return (
    BOUNCE_SUBJECT.test(mail.subject) &&
    (nullPath || /auto-(?:generated|replied)/i.test(mail.header('auto-submitted') ?? ''))
  );
}

export function looksLikeBounce(mail: MailView): boolean {
  if (mail.statusParts.length > 0 || mail.reportType === 'delivery-status' || mail.header('x-failed-recipients'))
    return true;
  if (isAutoReply(mail)) return false;
  // DMARC aggregate reports (RFC 7489 §7.2) come from postmaster-like senders and name domains, not people.
  if (/report[- ]?domain:|dmarc (?:aggregate )?report|aggregate report/i.test(mail.subject)) return false;
  const daemon = isDaemonSender(mail);
  if ((HUMAN_REPLY_SUBJECT.test(mail.subject) || isListMail(mail)) && !daemon) return false;
  return daemon || BOUNCE_SUBJECT.test(mail.subject);
}

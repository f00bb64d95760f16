import type { BounceReport } from '../bounces.js';
import { addressesIn, addressOf, messageIdOf, parseFieldBlocks, verpDeliveryId } from './fields.js';
import type { MailView } from './message.js';

/**
 * Complaints. ARF (RFC 5965): a `message/feedback-report` part whose Feedback-Type says a person
 * complained. Feedback types that are no complaint — `not-spam`, and `auth-failure` (RFC 6591, the
 * DMARC/SPF failure reports) — give a report with nothing to record. Outside ARF, Hotmail/Outlook's
 * older loop sends the complained-of message with an `X-HmXmrOriginalRecipient` header, and some
 * loops paste the ARF fields into a plain text part.
 */

/** Feedback types that are a recipient's complaint. */
const COMPLAINT_FEEDBACK_TYPES = new Set(['abuse', 'fraud', 'virus', 'other', 'complaint']);

export interface ComplaintReading {
  reports: BounceReport[];
}

export function readComplaint(mail: MailView, bounceAddress: string | undefined): ComplaintReading | undefined {
  const arfPart = mail.feedbackParts[0];
  if (arfPart !== undefined && (mail.reportType === 'feedback-report' || mail.statusParts.length === 0)) {
    return { reports: feedbackReports(arfPart, mail, bounceAddress) };
  }
  if (mail.statusParts.length > 0) return undefined;
  const hotmail = hotmailComplaint(mail, bounceAddress);
  if (hotmail) return { reports: [hotmail] };
  // ARF fields pasted into a text part by a loop that got the MIME types wrong.
  const embedded = /^feedback-type[ \t]*:/im.exec(mail.body);
  if (embedded && /^(?:user-agent|version|original-mail-from|arrival-date)[ \t]*:/im.test(mail.body)) {
    const reports = feedbackReports(mail.body.slice(embedded.index), mail, bounceAddress);
    if (reports.length > 0) return { reports };
  }
  return undefined;
}

function feedbackReports(body: string, mail: MailView, bounceAddress: string | undefined): BounceReport[] {
  const [fields] = parseFieldBlocks(body);
  const feedbackType = fields?.get('feedback-type')?.toLowerCase().trim();
  if (!fields || !feedbackType || !COMPLAINT_FEEDBACK_TYPES.has(feedbackType)) return [];
  const original = mail.original;
  // Providers often redact the recipient; the original Message-ID or the VERP return path still names it.
  const deliveryId = verpDeliveryId(
    [fields.get('original-mail-from'), original?.get('return-path'), ...mail.ownHeaders],
    bounceAddress,
  );
  const messageId = messageIdOf(original?.get('message-id'));
  const email =
    addressOf(fields.get('original-rcpt-to')) ??
    addressOf(fields.get('removal-recipient')) ??
    addressOf(original?.get('to'));
  const agent = fields.get('user-agent');
  return [
    {
      type: 'complaint',
      source: 'arf',
      deliveryId,
      messageId,
      email,
      diagnostic: `feedback-type ${feedbackType}${agent ? ` (${agent})` : ''}`,
    },
  ];
}

/** Hotmail/Outlook's non-ARF loop: "complaint about message from …" with the original attached. */
function hotmailComplaint(mail: MailView, bounceAddress: string | undefined): BounceReport | undefined {
  const marker =
    mail.original?.get('x-hmxmroriginalrecipient') ?? /^x-hmxmroriginalrecipient[ \t]*:(.*)$/im.exec(mail.body)?.[1];
  const bySubject =
    /^complaint about message from\b/i.test(mail.subject.trim()) && /hotmail|outlook|msn|live\.com/.test(mail.from);
  if (!marker && !bySubject) return undefined;
  const original = mail.original;
  return {
    type: 'complaint',
    source: 'arf',
    deliveryId: verpDeliveryId([original?.get('return-path'), ...mail.ownHeaders], bounceAddress),
    messageId: messageIdOf(original?.get('message-id')),
    email: addressesIn(marker)[0] ?? addressOf(original?.get('to')),
    diagnostic: 'complaint (Hotmail feedback loop, no ARF)',
  };
}

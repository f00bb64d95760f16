/**
 * Messages as they come back to quire, for the inbound tests (core, SMTP listener, `quire inbound`, the
 * Worker's email()). Each carries a Message-ID and a From, as Miniflare's email() dispatch insists.
 */

let seq = 0;
const messageId = () => `<inbound-test-${process.pid}-${Date.now().toString(36)}-${seq++}@relay.example.net>`;

/** The mailto target of a List-Unsubscribe header: the address to write to, and the subject it asks for (RFC 6068). */
export function mailtoOf(listUnsubscribe: string): { address: string; subject: string } {
  const uri = /<mailto:([^>]+)>/.exec(listUnsubscribe.replace(/\r?\n[ \t]+/g, ' '))?.[1];
  if (!uri) throw new Error(`no mailto target in ${listUnsubscribe}`);
  const [address, query = ''] = uri.split('?');
  return { address: decodeURIComponent(address!), subject: new URLSearchParams(query).get('subject') ?? '' };
}

/** What a mail client sends for a mailto unsubscribe: a short note from the reader. */
export function unsubscribeMail(opts: { to: string; subject: string; body?: string; from?: string }): string {
  return [
    `From: ${opts.from ?? 'A Reader <reader@example.com>'}`,
    `To: ${opts.to}`,
    `Subject: ${opts.subject}`,
    `Message-ID: ${messageId()}`,
    'Date: Wed, 25 Nov 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? 'Please take me off the list.',
    '',
  ].join('\r\n');
}

/**
 * A delivery status notification (RFC 3464) as a relay sends it back to the envelope sender. `recipient`
 * undefined leaves Final-Recipient out: the report names no recipient, only the envelope does.
 */
export function dsnMail(opts: { recipient?: string; status?: string; action?: string; headerTo?: string }): string {
  const status = opts.status ?? '5.1.1';
  return [
    'From: Mail Delivery System <MAILER-DAEMON@relay.example.net>',
    // Many relays address the report to the From of the original, not to the envelope sender.
    `To: ${opts.headerTo ?? 'updates@quire.test'}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: ${messageId()}`,
    'Date: Wed, 25 Nov 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"',
    '',
    '--dsn-boundary',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Your message could not be delivered.',
    '',
    '--dsn-boundary',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; relay.example.net',
    '',
    ...(opts.recipient ? [`Final-Recipient: rfc822; ${opts.recipient}`] : []),
    `Action: ${opts.action ?? 'failed'}`,
    `Status: ${status}`,
    `Diagnostic-Code: smtp; 550 ${status} User unknown`,
    '',
    '--dsn-boundary--',
    '',
  ].join('\r\n');
}

/** An ordinary message: no report, no token. */
export function plainMail(opts: { to: string; subject?: string; body?: string }): string {
  return [
    'From: Someone <someone@example.org>',
    `To: ${opts.to}`,
    `Subject: ${opts.subject ?? 'Hello'}`,
    `Message-ID: ${messageId()}`,
    'Date: Wed, 25 Nov 2026 12:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? 'Just saying hello.',
    '',
  ].join('\r\n');
}

/** A message padded past `bytes`. */
export function largeMail(to: string, bytes: number): string {
  const line = `${'x'.repeat(76)}\r\n`;
  return plainMail({ to, subject: 'Large', body: line.repeat(Math.ceil(bytes / line.length) + 1) });
}

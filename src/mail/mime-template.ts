import MailComposer from 'nodemailer/lib/mail-composer';

/**
 * A broadcast's MIME message, built once by nodemailer's MailComposer with placeholder tokens and
 * completed per recipient by substitution. Composing MIME per message is what caps nodemailer's
 * `sendMail` near a thousand messages a second; a join and a base64 encode cost microseconds.
 * Bodies are base64 (RFC 2045 §6.8), wrapped at 76 characters, so no line ever nears the 998-octet
 * limit of RFC 5322 §2.1.1 whatever the content.
 */

const TOKENS = {
  // RFC 5322 §3.6.1: the origination date is when the message is ready to go, so each message gets its own.
  date: 'Thu, 01 Jan 1970 00:00:00 +0000',
  to: 'quire-recipient-token@placeholder.invalid',
  messageId: '<quire-message-id-token@placeholder.invalid>',
  listUnsubscribe: 'QUIRELISTUNSUBSCRIBETOKEN',
  // Lengths divisible by 3: their base64 has no padding and appears verbatim in the built message.
  text: 'QUIREzTEXTzPARTzTOKENz',
  html: 'QUIREzHTMLzPARTzTOKENz',
} as const;

export interface SkeletonInput {
  from: string;
  subject: string;
  /** Same for every recipient (List-Unsubscribe-Post, List-Id, …). */
  headers: Record<string, string>;
}

export interface RecipientParts {
  /** When this message is handed to the transport; now when not given. */
  date?: Date | undefined;
  to: string;
  messageId: string;
  /** The whole List-Unsubscribe value: `<https://…>, <mailto:…>` (RFC 2369, RFC 8058). */
  listUnsubscribe: string;
  html: string;
  text: string;
}

export type MimeTemplate = (recipient: RecipientParts) => Buffer;

/** The date-time form of RFC 5322 §3.3, in UTC, as nodemailer writes it. */
const rfc5322Date = (d: Date) => d.toUTCString().replace(/GMT$/, '+0000');

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export async function buildMimeTemplate(input: SkeletonInput): Promise<MimeTemplate> {
  const composer = new MailComposer({
    from: input.from,
    to: TOKENS.to,
    subject: input.subject,
    messageId: TOKENS.messageId,
    date: new Date(0),
    // As written: nodemailer would turn a long value into encoded-words, which a List-Id must not be.
    headers: {
      ...Object.fromEntries(Object.entries(input.headers).map(([k, value]) => [k, { prepared: true, value }])),
      'List-Unsubscribe': TOKENS.listUnsubscribe,
    },
    text: { content: TOKENS.text, contentTransferEncoding: 'base64' },
    html: { content: TOKENS.html, contentTransferEncoding: 'base64' },
  });
  const skeleton = (await composer.compile().build()).toString('utf8');
  const newline = skeleton.includes('\r\n') ? '\r\n' : '\n';

  const needles: [keyof typeof TOKENS, string][] = [
    ['date', TOKENS.date],
    ['to', TOKENS.to],
    ['messageId', TOKENS.messageId],
    ['listUnsubscribe', TOKENS.listUnsubscribe],
    ['text', b64(TOKENS.text)],
    ['html', b64(TOKENS.html)],
  ];
  // Split the skeleton at each token, in document order; each must occur exactly once.
  const found = needles
    .map(([key, needle]) => {
      const at = skeleton.indexOf(needle);
      if (at < 0 || skeleton.indexOf(needle, at + 1) >= 0)
        throw new Error(`MIME skeleton: token ${key} not found exactly once`);
      return { key, at, length: needle.length };
    })
    .sort((a, b) => a.at - b.at);
  const parts: string[] = [];
  let last = 0;
  for (const f of found) {
    parts.push(skeleton.slice(last, f.at));
    last = f.at + f.length;
  }
  parts.push(skeleton.slice(last));
  const order = found.map((f) => f.key);

  const wrap = (s: string) => b64(s).replace(/.{76}(?=.)/g, `$&${newline}`);
  const fold = (value: string) => value.replace(/,\s*</g, `,${newline} <`);

  return (r) => {
    const values: Record<keyof typeof TOKENS, string> = {
      date: rfc5322Date(r.date ?? new Date()),
      to: r.to,
      messageId: r.messageId,
      listUnsubscribe: fold(r.listUnsubscribe),
      text: wrap(r.text),
      html: wrap(r.html),
    };
    let out = parts[0]!;
    for (let i = 0; i < order.length; i++) out += values[order[i]!] + parts[i + 1]!;
    return Buffer.from(out, 'utf8');
  };
}

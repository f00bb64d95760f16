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
  /** The bodies as text, or already base64 (src/mail/personalise.ts, `personalisedBase64`). */
  html: string | { base64: string };
  text: string | { base64: string };
}

export interface MimeTemplate {
  (recipient: RecipientParts): Buffer;
  /** The same message in pieces (src/mail/mailer.ts, `wire`). */
  pieces(recipient: RecipientParts): (Buffer | string)[];
}

/** The date-time form of RFC 5322 §3.3, in UTC, as nodemailer writes it. */
const rfc5322Date = (d: Date) => d.toUTCString().replace(/GMT$/, '+0000');

const b64 = (s: string | { base64: string }) =>
  typeof s === 'string' ? Buffer.from(s, 'utf8').toString('base64') : s.base64;

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
  // Lines end in CRLF (RFC 5322 §2.1; nodemailer writes them so), whatever the platform: the pieces go to a
  // socket as they are.
  const skeleton = (await composer.compile().build()).toString('utf8').replace(/\r?\n/g, '\r\n');
  const newline = '\r\n';

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
  // The parts between the tokens as bytes, once: a message is then a list of buffers to join, and no
  // message-sized string is ever encoded.
  const parts: Buffer[] = [];
  let last = 0;
  for (const f of found) {
    parts.push(Buffer.from(skeleton.slice(last, f.at), 'utf8'));
    last = f.at + f.length;
  }
  parts.push(Buffer.from(skeleton.slice(last), 'utf8'));
  const order = found.map((f) => f.key);

  // Lines of 76, cut by slicing: a regular expression over every message's base64 cost more than the
  // encoding itself.
  const wrap = (s: string | { base64: string }) => {
    const encoded = b64(s);
    if (encoded.length <= 76) return encoded;
    const lines: string[] = [];
    for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
    return lines.join(newline);
  };
  const fold = (value: string) => value.replace(/,\s*</g, `,${newline} <`);

  // The Date field has a resolution of a second: formatted once a second, not once a message.
  let dateSecond = Number.NaN;
  let dateText = '';
  const dateOf = (d: Date) => {
    const second = Math.floor(d.getTime() / 1000);
    if (second !== dateSecond) {
      dateSecond = second;
      dateText = rfc5322Date(d);
    }
    return dateText;
  };

  // The constant parts stay buffers made once, the recipient's values strings: a socket writes them as
  // they are, and the whole message is one allocation only where a transport needs it as one.
  const pieces = (r: RecipientParts) => {
    const values: Record<keyof typeof TOKENS, string> = {
      date: dateOf(r.date ?? new Date()),
      to: r.to,
      messageId: r.messageId,
      listUnsubscribe: fold(r.listUnsubscribe),
      text: wrap(r.text),
      html: wrap(r.html),
    };
    const out: (Buffer | string)[] = [parts[0]!];
    for (let i = 0; i < order.length; i++) out.push(values[order[i]!], parts[i + 1]!);
    return out;
  };
  return Object.assign(
    (r: RecipientParts) => {
      const list = pieces(r);
      let size = 0;
      for (const p of list) size += typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
      const out = Buffer.allocUnsafe(size);
      let at = 0;
      for (const p of list) at += typeof p === 'string' ? out.write(p, at, 'utf8') : p.copy(out, at);
      return out;
    },
    { pieces },
  );
}

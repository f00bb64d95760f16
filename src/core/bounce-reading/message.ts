import type { Attachment } from 'mailparser';
import { type FieldBlock, parseFieldBlocks } from './fields.js';

/**
 * One message, opened the way every reader wants it: headers, the human-readable report (the text
 * before the returned original), the RFC 3464 / RFC 5965 machine parts, and the original's headers.
 * Broken MIME is tolerated: when mailparser cannot make sense of it, the raw text is read instead.
 */
export interface MailView {
  /** First value of a header, unfolded; undefined when absent. */
  header(name: string): string | undefined;
  subject: string;
  /** The From header as text, lower-cased. */
  from: string;
  /** The top-level content type and its report-type parameter (RFC 6522), lower-cased. */
  contentType: string;
  reportType: string | undefined;
  /** Bodies of message/delivery-status parts (RFC 3464, or message/global-delivery-status, RFC 6533). */
  statusParts: string[];
  /** Bodies of message/feedback-report parts (RFC 5965). */
  feedbackParts: string[];
  /** Every readable text part, LF line endings. */
  body: string;
  /** The body up to where the returned original message starts. */
  report: string;
  /** The returned original message's header fields, from its own part or from the body. */
  original: FieldBlock | undefined;
  /** Header values that carry the address this report was delivered to (where VERP puts the id). */
  ownHeaders: string[];
  inReplyTo: string | undefined;
}

const DELIVERY_STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const FEEDBACK_TYPES = new Set(['message/feedback-report']);
const ORIGINAL_TYPES = new Set([
  'message/rfc822',
  'text/rfc822-headers',
  'message/global',
  'message/global-headers',
  'message/partial',
]);
const OWN_HEADERS = ['to', 'delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to'];

/** Where MTAs start the copy of the message they return: the report ends there. */
export const ORIGINAL_MARKER = new RegExp(
  [
    'below this line is a copy of the message',
    'this is a copy of the message',
    '(?:enclosed|attachment|attached) is a copy of the message',
    'original message (?:follows|headers)',
    '-+ *original message *-+',
    'unsent message follows',
    '-+ *returned message *-+',
    'the header of the original message is following',
    'included is a copy of the message header',
    'message headers follow',
    'below is a copy of the original message',
    'the original message (?:was|is) (?:attached|included|below)',
    'headers? of (?:the )?original message',
    'original message header',
    'a copy of (?:the|your) (?:original )?message',
    'the message (?:follows|that caused this notification)',
  ].join('|'),
  'im',
);

export async function viewMessage(raw: Buffer | string): Promise<MailView> {
  const input = normaliseLineEndings(raw);
  try {
    const { simpleParser } = await import('mailparser');
    const mail = await simpleParser(input, {
      // Without this, mailparser folds the delivery-status part into the text body.
      keepDeliveryStatus: true,
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
    });
    const lines = new Map<string, string>();
    for (const h of mail.headerLines)
      if (!lines.has(h.key)) lines.set(h.key, unfold(h.line.slice(h.line.indexOf(':') + 1)).slice(0, MAX_LINE));
    const type = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
    const parts = (types: Set<string>) =>
      mail.attachments.filter((a) => types.has(a.contentType.toLowerCase())).map(text);
    // Some reports name their text part (McAfee's deliveryproblems.txt): mailparser files it as an attachment.
    const namedText = mail.attachments
      .filter((a) => a.contentType.toLowerCase() === 'text/plain' && a.size < 65_536)
      .map(text);
    const html = typeof mail.html === 'string' ? htmlToText(mail.html.slice(0, MAX_TEXT)) : '';
    const plain = (mail.text ?? '').trim() ? (mail.text ?? '') : html;
    let body = [plain, ...namedText].join('\n').replace(/\r\n?/g, '\n');
    // A part mailparser could not reach (a boundary folded wrongly, say): read the raw text instead.
    if (!body.trim() && mail.attachments.length === 0)
      body = mimeFreeText(typeof input === 'string' ? input : input.toString('utf8'));
    const originalPart = mail.attachments.find((a) => ORIGINAL_TYPES.has(a.contentType.toLowerCase()));
    return build({
      header: (name) => lines.get(name.toLowerCase()),
      subject: mail.subject ?? lines.get('subject') ?? '',
      from: (mail.from?.text ?? lines.get('from') ?? '').toLowerCase(),
      contentType: type?.value?.toLowerCase() ?? '',
      reportType: type?.params?.['report-type']?.toLowerCase(),
      statusParts: parts(DELIVERY_STATUS_TYPES),
      feedbackParts: parts(FEEDBACK_TYPES),
      body,
      // mailparser renders an inline message/rfc822 part into the text, headers lost: find it in the raw message.
      originalText: originalPart
        ? text(originalPart)
        : rawOriginal(typeof input === 'string' ? input : input.toString('utf8')),
      ownHeaders: mail.headerLines
        .filter((h) => OWN_HEADERS.includes(h.key))
        .map((h) => h.line.slice(h.line.indexOf(':') + 1)),
      inReplyTo: typeof mail.inReplyTo === 'string' ? mail.inReplyTo : undefined,
    });
  } catch {
    return rawView(typeof input === 'string' ? input : input.toString('latin1'));
  }
}

interface Parts extends Omit<MailView, 'report' | 'original'> {
  originalText: string | undefined;
}

/** Longer lines than this are cut: no report needs them, and every pattern stays linear in the rest. */
const MAX_LINE = 1_000;
const MAX_TEXT = 200_000;

/** The text of a part, bounded: lines cut at MAX_LINE, the whole at MAX_TEXT. */
export function bounded(text: string): string {
  return text
    .slice(0, MAX_TEXT)
    .split('\n')
    .map((line) => (line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line))
    .join('\n');
}

function build(raw: Parts): MailView {
  const p: Parts = {
    ...raw,
    subject: raw.subject.slice(0, MAX_LINE),
    from: raw.from.slice(0, MAX_LINE),
    body: bounded(raw.body),
    statusParts: raw.statusParts.map(bounded),
    feedbackParts: raw.feedbackParts.map(bounded),
    originalText: raw.originalText === undefined ? undefined : bounded(raw.originalText.slice(0, 65_536)),
  };
  const cut = p.body.search(ORIGINAL_MARKER);
  const report = cut === -1 ? p.body : p.body.slice(0, cut);
  const original =
    p.originalText !== undefined
      ? headerBlock(p.originalText)
      : cut === -1
        ? undefined
        : headerBlock(p.body.slice(cut).replace(/^[^\n]*\n/, ''));
  const { originalText: _, ...rest } = p;
  return { ...rest, report, original };
}

/** A message mailparser gave up on: its header block by hand, the rest as text. */
function rawView(raw: string): MailView {
  const text = raw.replace(/\r\n?/g, '\n');
  const end = text.search(/\n[ \t]*\n/);
  const head = parseFieldBlocks(end === -1 ? text : text.slice(0, end))[0] ?? new Map<string, string>();
  const body = end === -1 ? '' : text.slice(end).trim();
  return build({
    header: (name) => head.get(name.toLowerCase()),
    subject: head.get('subject') ?? '',
    from: (head.get('from') ?? '').toLowerCase(),
    contentType: (head.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase(),
    reportType: /report-type="?([\w-]+)/i.exec(head.get('content-type') ?? '')?.[1]?.toLowerCase(),
    statusParts: [],
    feedbackParts: [],
    body,
    originalText: undefined,
    ownHeaders: OWN_HEADERS.map((h) => head.get(h)).filter((v): v is string => v !== undefined),
    inReplyTo: head.get('in-reply-to'),
  });
}

/** The first header block of a message or of a run of text that starts with one. */
export function headerBlock(text: string): FieldBlock | undefined {
  const body = text.replace(/\r\n?/g, '\n').replace(/^\s+/, '');
  const end = body.search(/\n[ \t]*\n/);
  const block = parseFieldBlocks(end === -1 ? body : body.slice(0, end))[0];
  return block && (block.has('message-id') || block.has('to') || block.has('subject') || block.has('from'))
    ? block
    : undefined;
}

/** Mac-style CR-only line endings (and LF-only ones, which need nothing) made readable for the parser. */
function normaliseLineEndings(raw: Buffer | string): Buffer | string {
  const sample = typeof raw === 'string' ? raw : raw.toString('latin1');
  const lf = sample.split('\n').length - 1;
  const loneCr = sample.match(/\r(?!\n)/g)?.length ?? 0;
  if (loneCr <= lf) return raw;
  const fixed = sample.replace(/\r(?!\n)/g, '\n');
  return typeof raw === 'string' ? fixed : Buffer.from(fixed, 'latin1');
}

/** The header block of the first message/rfc822 (or headers-only) part of a raw message. */
function rawOriginal(raw: string): string | undefined {
  const m =
    /^content-type:[ \t]*(?:message\/(?:rfc822|global|global-headers)|text\/rfc822-headers)\b[^\n]*\n(?:[ \t][^\n]*\n|[\w-]+:[^\n]*\n)*\r?\n/im.exec(
      raw.replace(/\r\n?/g, '\n'),
    );
  return m ? raw.replace(/\r\n?/g, '\n').slice(m.index + m[0].length, m.index + m[0].length + 65_536) : undefined;
}

/** The body of a raw message with MIME boundaries and part headers taken out. */
function mimeFreeText(raw: string): string {
  const text = raw.replace(/\r\n?/g, '\n');
  const start = text.search(/\n[ \t]*\n/);
  return (start === -1 ? '' : text.slice(start))
    .split('\n')
    .filter((l) => !/^--\S{6,}$/.test(l.trim()) && !/^(?:content-[\w-]+:|\s*boundary=|\s*charset=)/i.test(l))
    .join('\n')
    .trim();
}

const text = (a: Attachment) => a.content.toString('utf8').replace(/\r\n?/g, '\n');
const unfold = (value: string) => value.replace(/\r?\n[ \t]+/g, ' ').trim();

/** Enough of HTML to read a report that came without a text part. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(style|script|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|\/p|\/div|\/tr|\/h\d|\/li|\/table|p|div|tr)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#(\d{1,5});/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/gi, '&')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n[ \t]+/g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}

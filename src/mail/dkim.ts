import { createHash, createSign } from 'node:crypto';
import type { Config } from '../config.js';

export interface DkimOptions {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

/** DKIM signing from configuration, or undefined when it is not configured (the schema takes all three or none). */
export function dkimFromConfig(
  config: Pick<Config, 'DKIM_DOMAIN' | 'DKIM_SELECTOR' | 'DKIM_PRIVATE_KEY'>,
): DkimOptions | undefined {
  if (!config.DKIM_DOMAIN || !config.DKIM_SELECTOR || !config.DKIM_PRIVATE_KEY) return undefined;
  return { domainName: config.DKIM_DOMAIN, keySelector: config.DKIM_SELECTOR, privateKey: config.DKIM_PRIVATE_KEY };
}

/**
 * Signed header fields, each instance the message has. RFC 8058 §4 requires List-Unsubscribe and
 * List-Unsubscribe-Post to be covered for one-click unsubscribe to be offered.
 */
const SIGNED = [
  'From',
  'Sender',
  'Reply-To',
  'Subject',
  'Date',
  'Message-ID',
  'To',
  'Cc',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'In-Reply-To',
  'References',
  'List-Id',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'Auto-Submitted',
];

/**
 * Signed once more than the message has them (RFC 6376 §5.4.2, §8.15): the extra name matches no
 * field, so a copy with one of these added on top no longer verifies. That is what stops a second
 * From, or a List-Unsubscribe pointing elsewhere, from riding on our signature.
 */
const OVERSIGNED = new Set(['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post']);

/** The `h=` list for these header fields: every signed instance, plus one for each over-signed name. */
function signedFieldNames(fields: { name: string }[]): string[] {
  const names: string[] = [];
  for (const name of SIGNED) {
    const key = name.toLowerCase();
    const count = fields.filter((f) => f.name === key).length;
    for (let i = 0; i < count + (OVERSIGNED.has(key) ? 1 : 0); i++) names.push(key);
  }
  return names;
}

interface Field {
  name: string;
  /** The whole field as it stands in the message, folded lines included. */
  line: string;
}

function splitMessage(raw: Buffer): { fields: Field[]; body: string } {
  const text = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 4);
  const fields: Field[] = [];
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1]!.line += `\r\n${line}`;
    else if (line.includes(':')) fields.push({ name: line.slice(0, line.indexOf(':')).trim().toLowerCase(), line });
  }
  return { fields, body };
}

/** RFC 6376 §3.4.2, relaxed header canonicalization, without the trailing CRLF. */
const relaxedHeader = (name: string, line: string) =>
  `${name}:${line
    .slice(line.indexOf(':') + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim()}`;

/** RFC 6376 §3.4.4, relaxed body canonicalization. */
function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n`;
}

/**
 * Sign a complete RFC 5322 message (rsa-sha256, relaxed/relaxed) and return it with its
 * DKIM-Signature field in front. Instances are taken from the bottom up (RFC 6376 §5.4.2).
 */
export function signMessage(raw: Buffer, opts: DkimOptions, now: Date = new Date()): Buffer {
  const { fields, body } = splitMessage(raw);
  const names = signedFieldNames(fields);
  const used = new Map<string, number>();
  let signedHeaders = '';
  for (const name of names) {
    const instances = fields.filter((f) => f.name === name);
    const taken = used.get(name) ?? 0;
    used.set(name, taken + 1);
    const field = instances[instances.length - 1 - taken];
    if (field) signedHeaders += `${relaxedHeader(name, field.line)}\r\n`;
  }
  const bodyHash = createHash('sha256').update(relaxedBody(body), 'latin1').digest('base64');
  const tags = [
    'v=1',
    'a=rsa-sha256',
    'c=relaxed/relaxed',
    `d=${opts.domainName}`,
    `s=${opts.keySelector}`,
    `t=${Math.floor(now.getTime() / 1000)}`,
    `h=${names.join(':')}`,
    `bh=${bodyHash}`,
    'b=',
  ];
  const unsigned = `DKIM-Signature: ${fold(tags.join('; '))}`;
  const signature = createSign('RSA-SHA256')
    .update(signedHeaders + relaxedHeader('dkim-signature', unsigned), 'latin1')
    .sign(opts.privateKey, 'base64');
  const field = `${unsigned}${signature.replace(/(.{72})(?=.)/g, '$1\r\n ')}\r\n`;
  return Buffer.concat([Buffer.from(field, 'latin1'), raw]);
}

/** Fold the tag list at its separators (RFC 5322 §2.2.3), so no line nears the 998-octet limit. */
const fold = (tags: string) => tags.replace(/; /g, ';\r\n ');

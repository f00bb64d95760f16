/*
 * A strict local stand-in for Mailgun's "send an email in MIME format", following:
 *   https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages/post-v3--domain-name--messages-mime
 *       POST /v3/{domain_name}/messages.mime, multipart/form-data: `to` (required; several values, or commas),
 *       `message` (required, the MIME as a file upload), the `o:`, `h:`, `v:`, `t:` options and
 *       `recipient-variables`; a limit on the send options' total size; response `{ id, message }`
 *   https://documentation.mailgun.com/docs/mailgun/api-reference/authentication (HTTP Basic, user `api`)
 *   https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses (400 with `{ message }`, 401
 *       `Forbidden`, 404, 429, 500)
 *   https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/batch-sending (at most a
 *       thousand recipients per request)
 *
 * Stricter than Mailgun where its documents are silent, so that a wrong request from quire fails here:
 * parameters not in the list are refused (400), yes/no options must say yes or no, the MIME must have a
 * From header and a header section ended by an empty line. Only messages.mime is implemented. Mailgun's
 * 429 says to retry "as defined in the response"; this stand-in sends Retry-After.
 *
 * In a test: `await startMailgunStandIn({ rejectRecipients: ['x@example.net'] })`. As a process:
 *   node --import tsx tests/stand-ins/mailgun.ts --port 8027 --domain mg.example.com --api-key key-test --rate 10
 */
import { type ParsedMail, simpleParser } from 'mailparser';
import { hasHeaderAndBody, headerFields } from './mime.js';
import {
  type CommonOptions,
  type IncomingCall,
  mailboxAddress,
  parseArgs,
  type Reply,
  runIfMain,
  type StandIn,
  startStandIn,
} from './support.js';

export const MAILGUN_TEST = { domain: 'mg.example.com', apiKey: 'key-standin0000000000000000000000' };

export interface MailgunStandInOptions extends CommonOptions {
  domain?: string;
  apiKey?: string;
  /** Refused as Mailgun refuses an address it cannot take (400, `to` not valid). */
  rejectRecipients?: Iterable<string> | undefined;
}

export interface MailgunAcceptedMessage {
  id: string;
  domain: string;
  to: string[];
  /** Every other parameter, by name. */
  options: Record<string, string[]>;
  raw: Buffer;
  /** Header fields as they arrived, unfolded, by lower-case name. */
  headers: Map<string, string[]>;
  parsed: ParsedMail;
}

export type MailgunStandIn = StandIn<MailgunAcceptedMessage>;

const MAX_RECIPIENTS = 1000;
const MAX_OPTIONS_BYTES = 16 * 1024;
/** Mailgun's message size limit. */
const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;
const YES_NO = new Set([
  'o:dkim',
  'o:testmode',
  'o:tracking',
  'o:tracking-opens',
  'o:require-tls',
  'o:skip-verification',
  'o:tracking-pixel-location-top',
]);
const OPTIONS = new Set([
  ...YES_NO,
  'o:tag',
  'o:deliverytime',
  'o:tracking-clicks',
  'o:sending-ip',
  'o:sending-ip-pool',
  'o:campaign',
  'template',
  't:version',
  't:text',
  't:variables',
  'recipient-variables',
]);

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}
const bad = (message: string) => new Refusal(400, { message });

export function startMailgunStandIn(options: MailgunStandInOptions = {}): Promise<MailgunStandIn> {
  const domain = options.domain ?? MAILGUN_TEST.domain;
  const apiKey = options.apiKey ?? MAILGUN_TEST.apiKey;
  const reject = new Set([...(options.rejectRecipients ?? [])].map((a) => a.toLowerCase()));
  let sequence = 0;

  const accept = async (
    call: IncomingCall,
    rateLimited: () => number | undefined,
    fault: () => number | undefined,
  ): Promise<MailgunAcceptedMessage> => {
    const m = /^\/v3\/([^/]+)\/messages\.mime$/.exec(call.path);
    if (!m) throw new Refusal(404, { message: 'Not Found' });
    if (call.method !== 'POST') throw new Refusal(405, { message: 'Method Not Allowed' });
    if (call.headers.authorization !== `Basic ${Buffer.from(`api:${apiKey}`).toString('base64')}`)
      throw new Refusal(401, 'Forbidden');
    if (decodeURIComponent(m[1]!) !== domain)
      throw new Refusal(404, { message: `Domain not found: ${decodeURIComponent(m[1]!)}` });
    const wait = rateLimited();
    if (wait !== undefined) throw new Refusal(429, { message: 'Too Many Requests' }, { 'retry-after': String(wait) });
    const injected = fault();
    if (injected !== undefined) throw new Refusal(injected, { message: 'Internal Server Error' });
    if (!/^multipart\/form-data\s*;\s*boundary=/i.test(call.headers['content-type'] ?? ''))
      throw bad('Content-Type must be multipart/form-data');

    let form: FormData;
    try {
      form = await new Response(call.body, { headers: { 'content-type': call.headers['content-type']! } }).formData();
    } catch {
      throw bad('The multipart/form-data body could not be parsed');
    }
    const to: string[] = [];
    const opts: Record<string, string[]> = {};
    let message: File | undefined;
    let optionBytes = 0;
    for (const [name, value] of form) {
      if (name === 'message') {
        if (message || typeof value === 'string') throw bad('message parameter must be one file upload');
        message = value;
      } else if (typeof value !== 'string') {
        throw bad(`${name} parameter must not be a file`);
      } else if (name === 'to') {
        to.push(
          ...value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
      } else if (OPTIONS.has(name) || /^[hv]:[!-9;-~]+$/.test(name)) {
        const values = opts[name] ?? [];
        values.push(value);
        opts[name] = values;
        if (/^[ohvt]:/.test(name)) optionBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      } else {
        throw bad(`${name} is not a parameter of this endpoint`);
      }
    }
    if (to.length === 0) throw bad('to parameter is missing');
    if (!message) throw bad('message parameter is missing');
    if (to.length > MAX_RECIPIENTS) throw bad(`Too many recipients: at most ${MAX_RECIPIENTS} per request`);
    const addresses = to.map((t) => mailboxAddress(t));
    if (addresses.some((a) => a === undefined || reject.has(a.toLowerCase())))
      throw bad('to parameter is not a valid address. please check documentation');
    if (optionBytes > MAX_OPTIONS_BYTES)
      throw bad('Send options (parameters starting with o:, h:, v:, or t:) are limited to 16KB total');
    for (const name of YES_NO)
      for (const v of opts[name] ?? []) if (!/^(yes|no|true|false)$/i.test(v)) throw bad(`${name} must be yes or no`);
    for (const v of opts['o:tracking-clicks'] ?? [])
      if (!/^(yes|no|true|false|htmlonly)$/i.test(v)) throw bad('o:tracking-clicks must be yes, no or htmlonly');
    for (const v of opts['recipient-variables'] ?? []) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        throw bad('recipient-variables must be valid JSON');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw bad('recipient-variables must be a JSON object');
    }

    const raw = Buffer.from(await message.arrayBuffer());
    if (raw.length > MAX_MESSAGE_BYTES) throw new Refusal(413, { message: 'Message size exceeds the limit' });
    const text = raw.toString('latin1');
    if (!hasHeaderAndBody(text))
      throw bad('message is not a valid MIME message: no empty line after the header section');
    const headers = headerFields(text);
    if (!headers.has('from')) throw bad('message is not a valid MIME message: From header is missing');
    const ownId = headers.get('message-id')?.[0];
    const id = ownId ?? `<${new Date(call.now).toISOString().replace(/\D/g, '').slice(0, 14)}.${++sequence}@${domain}>`;
    return { id, domain, to: addresses as string[], options: opts, raw, headers, parsed: await simpleParser(raw) };
  };

  return startStandIn<MailgunAcceptedMessage>(
    {
      async handle(call, ctx): Promise<Reply> {
        try {
          const message = await accept(call, ctx.rateLimited, ctx.injectedFault);
          ctx.accept([message]);
          return { status: 200, body: { id: message.id, message: 'Queued. Thank you.' } };
        } catch (err) {
          if (!(err instanceof Refusal)) throw err;
          return { status: err.status, headers: err.headers, body: err.body };
        }
      },
      recipientsOf: (m) => m.to,
    },
    options,
  );
}

void runIfMain(import.meta.url, (argv) => {
  const { values, common } = parseArgs(argv);
  return startMailgunStandIn({
    ...common,
    domain: values.get('domain') ?? MAILGUN_TEST.domain,
    apiKey: values.get('api-key') ?? MAILGUN_TEST.apiKey,
    rejectRecipients: values.get('reject')?.split(','),
  }) as Promise<StandIn<unknown>>;
});

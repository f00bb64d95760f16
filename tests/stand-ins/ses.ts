/*
 * A local stand-in for Amazon SES API v2 SendEmail with raw MIME content, strict where the docs are:
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html (path, body fields, response,
 *   errors and their HTTP status codes)
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_RawMessage.html (base64 data, header and body,
 *   line length)
 * - https://docs.aws.amazon.com/ses/latest/dg/quotas.html (message size through the v2 API, recipients)
 * - https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-error-messages.html (unverified-address rejection)
 * - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html (Signature
 *   Version 4: canonical request, string to sign, signing key), verified here with node:crypto, independently
 *   of the client's signer
 * - AWS REST-JSON errors: the name in `x-amzn-ErrorType`, `{"message": …}` in the body.
 * Only `Content.Raw` is implemented; Simple and Template content are refused as unsupported by the stand-in.
 *
 * Stricter than SES where its documents are silent, so that a wrong request from quire fails here: unknown
 * fields and wrongly typed values are refused (BadRequestException). SES sends no Retry-After with its
 * throttling errors, and neither does this stand-in.
 *
 * In a test: `await startSesStandIn({ rejectRecipients: ['x@example.net'] })`. As a process:
 *   node --import tsx tests/stand-ins/ses.ts --port 4566 --rate 14 [--access-key-id ID --secret-access-key S --region R]
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { type ParsedMail, simpleParser } from 'mailparser';
import { hasHeaderAndBody, headerFields } from './mime.js';
import {
  type CommonOptions,
  type IncomingCall,
  isAddress,
  isPlainObject,
  mailboxAddress,
  parseArgs,
  type Reply,
  runIfMain,
  type StandIn,
  startStandIn,
} from './support.js';

export const SES_TEST_CREDENTIALS = {
  accessKeyId: 'AKIDSTANDIN0EXAMPLE',
  secretAccessKey: 'standin/secret/Key+EXAMPLE0000000000000',
  region: 'eu-west-1',
};

export interface SesStandInOptions extends CommonOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  /** Addresses refused as a sandbox account refuses unverified recipients (MessageRejected). */
  rejectRecipients?: Iterable<string> | undefined;
  /** Verified identities (addresses or domains); when given, a From outside them is refused (MessageRejected). */
  verifiedIdentities?: Iterable<string>;
  /** The account's sending state: paused and suspended refuse every send. */
  sending?: 'enabled' | 'paused' | 'suspended';
}

export interface SesAcceptedMessage {
  /** The MessageId SES answered with. */
  sesMessageId: string;
  destination: string[];
  fromEmailAddress: string | undefined;
  feedbackForwardingEmailAddress: string | undefined;
  configurationSetName: string | undefined;
  raw: Buffer;
  /** Header fields as they arrived, unfolded, by lower-case name. */
  headers: Map<string, string[]>;
  parsed: ParsedMail;
}

export type SesStandIn = StandIn<SesAcceptedMessage>;

const PATH = '/v2/email/outbound-emails';
/** v2 API and SMTP: the size after base64 encoding. */
const MAX_RAW_BASE64_BYTES = 40 * 1024 * 1024;
const MAX_RECIPIENTS = 50;
/** RFC 5321 line limit as SES applies it to raw messages: the line and its CRLF. */
const MAX_LINE = 998;
const SIGNATURE_WINDOW_MS = 15 * 60_000;
const TOP_LEVEL = new Set([
  'FromEmailAddress',
  'FromEmailAddressIdentityArn',
  'Destination',
  'ReplyToAddresses',
  'FeedbackForwardingEmailAddress',
  'FeedbackForwardingEmailAddressIdentityArn',
  'Content',
  'EmailTags',
  'ConfigurationSetName',
  'EndpointId',
  'TenantName',
  'ListManagementOptions',
]);
const SINGLE_HEADERS = [
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'message-id',
  'sender',
  'reply-to',
  'in-reply-to',
  'references',
];

class SesFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export function startSesStandIn(options: SesStandInOptions = {}): Promise<SesStandIn> {
  const creds = { ...SES_TEST_CREDENTIALS, ...options };
  const reject = new Set([...(options.rejectRecipients ?? [])].map((a) => a.toLowerCase()));
  const verified = options.verifiedIdentities
    ? new Set([...options.verifiedIdentities].map((a) => a.toLowerCase()))
    : undefined;

  const accept = async (
    call: IncomingCall,
    rateLimited: () => number | undefined,
    fault: () => number | undefined,
  ): Promise<SesAcceptedMessage> => {
    if (call.path !== PATH) throw new SesFault(404, 'UnknownOperationException', `No operation at ${call.path}`);
    if (call.method !== 'POST')
      throw new SesFault(405, 'UnknownOperationException', `Method ${call.method} not allowed`);
    verifySignature(call, {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      region: creds.region,
      service: 'ses',
    });
    if (rateLimited() !== undefined)
      throw new SesFault(429, 'TooManyRequestsException', 'Too many requests have been made to the operation.');
    const injected = fault();
    if (injected !== undefined)
      throw new SesFault(
        injected,
        injected === 503 ? 'ServiceUnavailable' : 'InternalFailure',
        'The request processing has failed because of an unknown error.',
      );
    if (!/^application\/(x-amz-)?json\b/i.test(call.headers['content-type'] ?? ''))
      throw new SesFault(400, 'BadRequestException', 'Content-Type must be application/json');
    const body = parseBody(call.body);
    if (options.sending === 'paused')
      throw new SesFault(400, 'SendingPausedException', 'Sending is paused for this account.');
    if (options.sending === 'suspended')
      throw new SesFault(400, 'AccountSuspendedException', 'Your account has been suspended.');

    const raw = rawMessage(body);
    const headers = headerFields(raw);
    const destination = recipients(body, headers);
    const sender =
      (body.FromEmailAddress as string | undefined) ?? mailboxAddress(headers.get('from')?.[0] ?? '') ?? '';
    const senderVerified =
      !verified ||
      verified.has(sender.toLowerCase()) ||
      verified.has(sender.slice(sender.lastIndexOf('@') + 1).toLowerCase());
    const refused = [...(senderVerified ? [] : [sender]), ...destination.filter((a) => reject.has(a.toLowerCase()))];
    if (refused.length)
      throw new SesFault(
        400,
        'MessageRejected',
        `Email address is not verified. The following identities failed the check in region ${creds.region.toUpperCase()}: ${refused.join(', ')}`,
      );
    return {
      sesMessageId: `0102${call.now.toString(16).padStart(12, '0')}-${randomUUID()}-000000`,
      destination,
      fromEmailAddress: body.FromEmailAddress as string | undefined,
      feedbackForwardingEmailAddress: body.FeedbackForwardingEmailAddress as string | undefined,
      configurationSetName: body.ConfigurationSetName as string | undefined,
      raw,
      headers,
      parsed: await simpleParser(raw),
    };
  };

  return startStandIn<SesAcceptedMessage>(
    {
      async handle(call, ctx): Promise<Reply> {
        try {
          const message = await accept(call, ctx.rateLimited, ctx.injectedFault);
          ctx.accept([message]);
          return {
            status: 200,
            headers: { 'x-amzn-requestid': randomUUID() },
            body: { MessageId: message.sesMessageId },
          };
        } catch (err) {
          if (!(err instanceof SesFault)) throw err;
          return {
            status: err.status,
            headers: {
              'x-amzn-requestid': randomUUID(),
              'x-amzn-errortype': `${err.type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`,
            },
            body: { message: err.message },
          };
        }
      },
      recipientsOf: (m) => m.destination,
    },
    options,
  );
}

function parseBody(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SesFault(400, 'BadRequestException', 'The request body is not valid JSON.');
  }
  if (!isPlainObject(body)) throw new SesFault(400, 'BadRequestException', 'The request body must be a JSON object.');
  for (const key of Object.keys(body))
    if (!TOP_LEVEL.has(key)) throw new SesFault(400, 'BadRequestException', `Unknown field ${key}.`);
  const b = body;
  for (const key of ['FromEmailAddress', 'FeedbackForwardingEmailAddress', 'ConfigurationSetName'])
    if (b[key] !== undefined && typeof b[key] !== 'string')
      throw new SesFault(400, 'BadRequestException', `${key} must be a string.`);
  for (const key of ['FromEmailAddress', 'FeedbackForwardingEmailAddress'])
    if (typeof b[key] === 'string' && mailboxAddress(b[key]) === undefined)
      throw new SesFault(400, 'BadRequestException', `Illegal address in ${key}.`);
  return b;
}

function rawMessage(body: Record<string, unknown>): Buffer {
  const content = body.Content as Record<string, unknown> | undefined;
  if (!content || typeof content !== 'object') throw new SesFault(400, 'BadRequestException', 'Content is required.');
  const kinds = Object.keys(content);
  if (kinds.length !== 1)
    throw new SesFault(400, 'BadRequestException', 'Content must contain exactly one of Simple, Raw or Template.');
  if (kinds[0] !== 'Raw')
    throw new SesFault(400, 'BadRequestException', `Content.${kinds[0]} is not supported by this stand-in.`);
  const raw = content.Raw as Record<string, unknown>;
  if (!raw || typeof raw !== 'object' || Object.keys(raw).some((k) => k !== 'Data'))
    throw new SesFault(400, 'BadRequestException', 'Content.Raw takes only Data.');
  const data = raw.Data;
  if (typeof data !== 'string' || data.length === 0 || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data))
    throw new SesFault(400, 'BadRequestException', 'Content.Raw.Data must be base64-encoded.');
  if (data.length > MAX_RAW_BASE64_BYTES)
    throw new SesFault(400, 'MessageRejected', 'Message length is more than the maximum message size.');
  const mime = Buffer.from(data, 'base64');
  const text = mime.toString('latin1');
  if (!hasHeaderAndBody(text))
    throw new SesFault(
      400,
      'MessageRejected',
      'The message must contain a header and a body, separated by a blank line.',
    );
  if (text.split(/\r?\n/).some((line) => line.length > MAX_LINE))
    throw new SesFault(400, 'MessageRejected', 'A line of the message exceeds the maximum line length.');
  const headers = headerFields(text);
  if (!headers.has('from')) throw new SesFault(400, 'MessageRejected', "Missing required header 'From'.");
  for (const name of SINGLE_HEADERS)
    if ((headers.get(name)?.length ?? 0) > 1) throw new SesFault(400, 'MessageRejected', `Duplicate header '${name}'.`);
  return mime;
}

function recipients(body: Record<string, unknown>, headers: Map<string, string[]>): string[] {
  let list: string[];
  if (body.Destination !== undefined) {
    const d = body.Destination as Record<string, unknown>;
    if (!d || typeof d !== 'object') throw new SesFault(400, 'BadRequestException', 'Destination must be an object.');
    list = [];
    for (const [key, value] of Object.entries(d)) {
      if (!['ToAddresses', 'CcAddresses', 'BccAddresses'].includes(key))
        throw new SesFault(400, 'BadRequestException', `Unknown field Destination.${key}.`);
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
        throw new SesFault(400, 'BadRequestException', `Destination.${key} must be a list of strings.`);
      list.push(...(value as string[]).map((v) => mailboxAddress(v) ?? v));
    }
  } else {
    list = ['to', 'cc', 'bcc'].flatMap((h) =>
      (headers.get(h) ?? []).flatMap((v) => v.split(',').map((a) => mailboxAddress(a) ?? a.trim())),
    );
  }
  if (list.length === 0) throw new SesFault(400, 'MessageRejected', 'The message must have at least one recipient.');
  if (list.length > MAX_RECIPIENTS)
    throw new SesFault(400, 'MessageRejected', 'Recipient count exceeds the maximum per message.');
  const bad = list.find((a) => !isAddress(a));
  if (bad !== undefined) throw new SesFault(400, 'MessageRejected', `Illegal address: ${bad}`);
  return list;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
/** RFC 3986 unreserved characters stay; everything else is percent-encoded (SigV4's UriEncode). */
const uriEncode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Signature Version 4 over the request as it arrived; throws the error SES answers with when it fails. */
export function verifySignature(call: IncomingCall, creds: Credentials): void {
  const auth = call.headers.authorization;
  if (!auth) throw new SesFault(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m)
    throw new SesFault(
      400,
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature.',
    );
  const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (keyId !== creds.accessKeyId)
    throw new SesFault(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  const amzDate = call.headers['x-amz-date'];
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(date!))
    throw new SesFault(
      400,
      'IncompleteSignatureException',
      'X-Amz-Date is missing or does not match the credential scope.',
    );
  const at = Date.UTC(
    +amzDate.slice(0, 4),
    +amzDate.slice(4, 6) - 1,
    +amzDate.slice(6, 8),
    +amzDate.slice(9, 11),
    +amzDate.slice(11, 13),
    +amzDate.slice(13, 15),
  );
  if (Math.abs(call.now - at) > SIGNATURE_WINDOW_MS)
    throw new SesFault(
      403,
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier or later than allowed.`,
    );
  const names = signedHeaders!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date') || names.some((n, i) => i > 0 && n <= names[i - 1]!))
    throw new SesFault(403, 'SignatureDoesNotMatch', 'SignedHeaders must be sorted and include host and x-amz-date.');
  const payloadHash = sha256(call.body);
  const claimed = call.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== payloadHash)
    throw new SesFault(
      400,
      'XAmzContentSHA256Mismatch',
      'The provided x-amz-content-sha256 header does not match the computed hash.',
    );

  // Non-S3 services encode each path segment twice: once by the client, once more when signing. SendEmail
  // takes no query string, so the canonical query is empty.
  const canonicalUri = call.path.split('/').map(uriEncode).join('/');
  const canonicalHeaders = names.map((n) => `${n}:${(call.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [
    call.method,
    canonicalUri,
    '',
    canonicalHeaders,
    signedHeaders,
    claimed ?? payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date!), region!), service!), 'aws4_request');
  if (
    region !== creds.region ||
    service !== creds.service ||
    !timingSafeEqual(hmac(key, stringToSign), Buffer.from(signature!, 'hex'))
  )
    throw new SesFault(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
}

void runIfMain(import.meta.url, (argv) => {
  const { values, common } = parseArgs(argv);
  return startSesStandIn({
    ...common,
    accessKeyId: values.get('access-key-id') ?? SES_TEST_CREDENTIALS.accessKeyId,
    secretAccessKey: values.get('secret-access-key') ?? SES_TEST_CREDENTIALS.secretAccessKey,
    region: values.get('region') ?? SES_TEST_CREDENTIALS.region,
  }) as Promise<StandIn<unknown>>;
});

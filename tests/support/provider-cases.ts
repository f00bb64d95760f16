import { MAILGUN_TEST, startMailgunStandIn } from '../stand-ins/mailgun.js';
import { startPostmarkStandIn } from '../stand-ins/postmark.js';
import { startResendStandIn } from '../stand-ins/resend.js';
import { SENDGRID_TEST_KEY, startSendgridStandIn } from '../stand-ins/sendgrid.js';
import { SES_TEST_CREDENTIALS, startSesStandIn } from '../stand-ins/ses.js';
import type { StandIn } from '../stand-ins/support.js';

/*
 * The HTTP transports as a table for end-to-end tests: how to start each provider's stand-in, the
 * MAIL_DSN that names it, what it recorded in one shape for all, and what each is expected to do.
 */

export const POSTMARK_TOKEN = 'pm-server-0b7e3c5d-delivery';
export const RESEND_KEY = 're_standin_delivery_0123456789';

/** A message as the stand-in recorded it, in one shape for every provider. */
export interface Delivered {
  to: string[];
  subject: string | undefined;
  /** Our Message-ID, as the message carries it. */
  messageId: string | undefined;
  /** The id the provider answered with: what `deliveries.provider_message_id` should hold. */
  providerId: string;
  /** A header field's value, unfolded, found by name in any case. */
  header(name: string): string | undefined;
  /** Postmark only: the message stream it went to. */
  stream?: string | undefined;
}

export interface StartedStandIn {
  standIn: StandIn<unknown>;
  /** The MAIL_DSN naming this stand-in. */
  dsn: string;
  delivered(): Delivered[];
}

export interface StandInSettings {
  /** Recipients the provider refuses, each in its own way (Postmark: inactive, 406). */
  refuse?: string[];
  rateLimitPerSecond?: number;
}

export interface ProviderCase {
  name: string;
  start(settings: StandInSettings): Promise<StartedStandIn>;
  /** Requests a 1,000-recipient broadcast takes: its batch size at work (one per message without one). */
  requestsFor1000: number;
  /** What becomes of a row whose recipient the provider refuses. */
  refusal: { status: 'bounced' | 'failed'; suppressed: boolean };
  /** A broadcast that outruns the stand-in's request rate: rows per claim, recipients, requests per second. */
  rateLimited: { batch: number; recipients: number; rateLimitPerSecond: number };
}

const unfold = (v: string | undefined) => v?.replace(/\s+/g, ' ').trim();
const fromRecord = (headers: Record<string, string>) => (name: string) =>
  unfold(Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1]);
const fromMap = (headers: Map<string, string[]>) => (name: string) => unfold(headers.get(name.toLowerCase())?.[0]);
const loopback = (s: { port: number }) => `127.0.0.1:${s.port}`;

export const postmark: ProviderCase = {
  name: 'postmark',
  async start({ refuse, rateLimitPerSecond }) {
    const standIn = await startPostmarkStandIn({ serverToken: POSTMARK_TOKEN, inactive: refuse, rateLimitPerSecond });
    return {
      standIn: standIn as StandIn<unknown>,
      dsn: `postmark+api://${POSTMARK_TOKEN}@${loopback(standIn)}`,
      delivered: () =>
        standIn.messages.map((m) => {
          const header = fromRecord(Object.fromEntries(m.Headers.map((h) => [h.Name, h.Value])));
          return {
            to: m.To,
            subject: m.Subject,
            messageId: header('Message-ID'),
            providerId: m.MessageID,
            header,
            stream: m.MessageStream,
          };
        }),
    };
  },
  requestsFor1000: 2,
  // ErrorCode 406, inactive recipient: on Postmark's suppression list, so ours too.
  refusal: { status: 'bounced', suppressed: true },
  rateLimited: { batch: 20, recipients: 60, rateLimitPerSecond: 1 },
};

export const resend: ProviderCase = {
  name: 'resend',
  async start({ refuse, rateLimitPerSecond }) {
    const standIn = await startResendStandIn({ apiKey: RESEND_KEY, invalid: refuse, rateLimitPerSecond });
    return {
      standIn: standIn as StandIn<unknown>,
      dsn: `resend+api://${RESEND_KEY}@${loopback(standIn)}`,
      delivered: () =>
        standIn.messages.map((m) => {
          const header = fromRecord(m.headers);
          return { to: m.to, subject: m.subject, messageId: header('Message-ID'), providerId: m.id, header };
        }),
    };
  },
  requestsFor1000: 10,
  // An invalid `to` (permissive batch validation answers it for that email alone): a hard bounce.
  refusal: { status: 'bounced', suppressed: true },
  rateLimited: { batch: 20, recipients: 60, rateLimitPerSecond: 1 },
};

export const ses: ProviderCase = {
  name: 'ses',
  async start({ refuse, rateLimitPerSecond }) {
    const standIn = await startSesStandIn({ rejectRecipients: refuse, rateLimitPerSecond });
    const { accessKeyId, secretAccessKey, region } = SES_TEST_CREDENTIALS;
    return {
      standIn: standIn as StandIn<unknown>,
      // The secret's raw `/` and `+` need no encoding: the key ends at the last `@`.
      dsn: `ses+api://${accessKeyId}:${secretAccessKey}@${loopback(standIn)}?region=${region}`,
      delivered: () =>
        standIn.messages.map((m) => {
          const header = fromMap(m.headers);
          return {
            to: m.destination,
            subject: m.parsed.subject,
            messageId: header('Message-ID'),
            providerId: m.sesMessageId,
            header,
          };
        }),
    };
  },
  requestsFor1000: 1000,
  // MessageRejected for an unverified recipient (a sandbox account): this message fails for good, but the
  // address is not bad, so nothing is suppressed.
  refusal: { status: 'failed', suppressed: false },
  rateLimited: { batch: 10, recipients: 15, rateLimitPerSecond: 5 },
};

export const mailgun: ProviderCase = {
  name: 'mailgun',
  async start({ refuse, rateLimitPerSecond }) {
    const standIn = await startMailgunStandIn({ rejectRecipients: refuse, rateLimitPerSecond });
    return {
      standIn: standIn as StandIn<unknown>,
      dsn: `mailgun+api://${MAILGUN_TEST.apiKey}:${MAILGUN_TEST.domain}@${loopback(standIn)}`,
      delivered: () =>
        standIn.messages.map((m) => {
          const header = fromMap(m.headers);
          // Mailgun answers with the message's own Message-ID; the transport keeps it without brackets.
          return {
            to: m.to,
            subject: m.parsed.subject,
            messageId: header('Message-ID'),
            providerId: m.id.replace(/^<|>$/g, ''),
            header,
          };
        }),
    };
  },
  requestsFor1000: 1000,
  // "to parameter is not a valid address": a hard bounce.
  refusal: { status: 'bounced', suppressed: true },
  rateLimited: { batch: 10, recipients: 15, rateLimitPerSecond: 5 },
};

export const sendgrid: ProviderCase = {
  name: 'sendgrid',
  async start({ refuse, rateLimitPerSecond }) {
    const standIn = await startSendgridStandIn({ rejectRecipients: refuse, rateLimitPerSecond });
    return {
      standIn: standIn as StandIn<unknown>,
      dsn: `sendgrid+api://${SENDGRID_TEST_KEY}@${loopback(standIn)}`,
      delivered: () =>
        standIn.messages.map((m) => {
          const header = fromRecord(m.headers);
          return { to: m.to, subject: m.subject, messageId: header('Message-ID'), providerId: m.xMessageId, header };
        }),
    };
  },
  requestsFor1000: 1000,
  // A 400 on personalizations.0.to.0.email: a hard bounce.
  refusal: { status: 'bounced', suppressed: true },
  rateLimited: { batch: 10, recipients: 15, rateLimitPerSecond: 5 },
};

/** A message ready for the wire: rendered, personalised, with every header decided. */
export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
  /** Envelope sender (Return-Path); a per-recipient VERP address when configured. */
  envelopeFrom?: string;
  /** A complete RFC 5322 message built elsewhere (broadcasts); when set, the fields above are not recomposed. */
  raw?: Buffer;
}

export interface SendResult {
  messageId: string;
  response?: string;
}

/** The transport seam: SMTP, the local capture mailbox, or an HTTP provider all fit it. */
export interface Mailer {
  send(message: OutgoingMessage): Promise<SendResult>;
  close(): Promise<void>;
}

/**
 * A failed send, classified the way SMTP replies are (RFC 5321 §4.2.1): 4yz is transient and retried,
 * 5yz is permanent. The enhanced status code (RFC 3463) tells a bad mailbox (5.1.x) from the rest.
 */
export class MailError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode?: number,
    readonly enhancedStatus?: string,
    /** The relay could not be reached at all (refused, unresolvable, no greeting): nothing was transmitted. */
    readonly relayUnavailable = false,
  ) {
    super(message);
    this.name = 'MailError';
  }

  get isHardBounce(): boolean {
    return this.permanent && (this.enhancedStatus?.startsWith('5.1.') ?? false);
  }
}

/** Turn whatever a transport threw into a MailError. Connection problems are transient. */
export function classifyMailError(err: unknown): MailError {
  if (err instanceof MailError) return err;
  const e = err as { responseCode?: number; response?: string; message?: string; code?: string; syscall?: string; timeoutType?: string };
  const response = e.response ?? e.message ?? String(err);
  const enhanced = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(response)?.[1];
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const permanent = code !== undefined ? code >= 500 && code < 600 : false;
  // Keep only the first line of the server's reply: no stack, no recipient address echoed back at length.
  const summary = `${e.code ? `${e.code}: ` : ''}${response.split('\n')[0]!.slice(0, 300)}`;
  // nodemailer: a socket error from connect() (ECONNREFUSED, EHOSTUNREACH…), a DNS failure, or a connect or
  // greeting timeout. A connection that drops later, mid-message, is not this: the message may have arrived.
  const relayUnavailable =
    code === undefined && (e.syscall === 'connect' || e.code === 'EDNS' || e.timeoutType === 'CONNECT_TIMEOUT' || e.timeoutType === 'GREETING_TIMEOUT');
  return new MailError(summary, permanent, code, enhanced, relayUnavailable);
}

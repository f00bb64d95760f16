/** A message ready for the wire: rendered, personalised, with every header decided. */
export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Our Message-ID, `<…@domain>`; transports that let us set it pass it through. */
  messageId: string;
  /** Extra header fields (List-Unsubscribe, List-Unsubscribe-Post, List-Id, Auto-Submitted…). */
  headers: Record<string, string>;
  /** Envelope sender (Return-Path); a per-recipient VERP address when configured. */
  envelopeFrom?: string | undefined;
  /**
   * A complete RFC 5322 message built elsewhere (broadcasts). Transports that carry MIME (SMTP, SES raw)
   * send it as it is; HTTP APIs that take fields use the fields above, which are always filled in too.
   */
  raw?: Buffer | undefined;
  /**
   * `raw` in pieces (strings as UTF-8), as a broadcast's template holds it: every line ends in CRLF and
   * none starts with a dot, so a socket can take the pieces as they are, with no message-sized buffer made.
   */
  wire?: readonly (Buffer | string)[] | undefined;
  /** A key that is the same for every attempt at this message (the outbox row's id): providers that
   * honour one (Resend's Idempotency-Key) accept a repeat without sending it twice. */
  idempotencyKey?: string | undefined;
}

export interface SendResult {
  /** The Message-ID the message went out with. */
  messageId: string;
  /** The provider's own id for the message, when it gives one (matched against its events later). */
  providerMessageId?: string | undefined;
  response?: string | undefined;
}

/** One message's outcome within a batch. */
export type BatchOutcome = { ok: true; result: SendResult } | { ok: false; error: MailError };

export interface BatchOptions {
  /** For `idempotentBatches` transports: the key of this request, the same on every attempt at these rows. */
  idempotencyKey?: string | undefined;
}

/** The transport seam: SMTP, the local capture mailbox, or an HTTP provider all fit it. */
export interface Mailer {
  /** A short name for logs and errors: `smtp`, `capture`, `postmark`… */
  readonly name: string;
  /** The most messages one `sendBatch` call takes; 1 when the transport has no batch form. */
  readonly maxBatch: number;
  /** The service takes transactional mail only (Cloudflare Email Service): broadcasts must not use it. */
  readonly transactionalOnly?: boolean;
  /**
   * The service deduplicates a batch request by a key we give (Resend's Idempotency-Key): a request
   * repeated with the same key after a crash sends nothing twice, so the engine keeps its rows together.
   */
  readonly idempotentBatches?: boolean;
  send(message: OutgoingMessage): Promise<SendResult>;
  /**
   * Send up to `maxBatch` messages; one outcome per message, in order. Throws a MailError only when
   * the request as a whole failed (nothing was accepted): rate limited, unreachable, unauthorised.
   */
  sendBatch(messages: OutgoingMessage[], options?: BatchOptions): Promise<BatchOutcome[]>;
  close(): Promise<void>;
}

export interface MailErrorDetails {
  /** The SMTP reply code (RFC 5321), or the HTTP status for API transports. */
  responseCode?: number | undefined;
  /** RFC 3463 enhanced status code, when the transport gave one. */
  enhancedStatus?: string | undefined;
  /** The relay or API could not be reached at all (refused, unresolvable, no greeting): nothing was transmitted. */
  relayUnavailable?: boolean | undefined;
  /**
   * The transport asked us to slow down (HTTP 429, SES throttling, SMTP 421/454 rate replies). Nothing was
   * sent; the message is not at fault and the worker should wait `retryAfterMs` (when known) before more.
   */
  rateLimited?: boolean | undefined;
  retryAfterMs?: number | undefined;
  /** The provider refuses this recipient for good (its own suppression list: Postmark 406, Resend's). */
  suppressed?: boolean | undefined;
  /** The address is bad for good (a 5.1.x bounce, a provider's "invalid address"). */
  hardBounce?: boolean | undefined;
  /** The provider whose API answered; absent when an SMTP relay did. */
  provider?: string | undefined;
}

/**
 * A failed send, classified the way SMTP replies are (RFC 5321 §4.2.1): transient faults are retried,
 * permanent ones are not. Every transport maps its own errors to this, so the engine needs no knowledge
 * of any transport.
 */
export class MailError extends Error {
  readonly responseCode: number | undefined;
  readonly enhancedStatus: string | undefined;
  readonly relayUnavailable: boolean;
  readonly rateLimited: boolean;
  readonly retryAfterMs: number | undefined;
  readonly suppressed: boolean;
  readonly provider: string | undefined;
  readonly #hardBounce: boolean | undefined;

  constructor(
    message: string,
    readonly permanent: boolean,
    details: MailErrorDetails = {},
  ) {
    super(message);
    this.name = 'MailError';
    this.responseCode = details.responseCode;
    this.enhancedStatus = details.enhancedStatus;
    this.relayUnavailable = details.relayUnavailable ?? false;
    this.rateLimited = details.rateLimited ?? false;
    this.retryAfterMs = details.retryAfterMs;
    this.suppressed = details.suppressed ?? false;
    this.provider = details.provider;
    this.#hardBounce = details.hardBounce;
  }

  /** A bad mailbox: 5.1.x (RFC 3463 §3.2, addressing status), or a transport that says so itself. */
  get isHardBounce(): boolean {
    if (this.#hardBounce !== undefined) return this.#hardBounce;
    return this.permanent && (this.enhancedStatus?.startsWith('5.1.') ?? false);
  }
}

/** Whatever a transport let escape, as a MailError: unknown faults are transient. */
export function asMailError(err: unknown): MailError {
  if (err instanceof MailError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MailError(message.split('\n')[0]!.slice(0, 300), false);
}

/** `sendBatch` for a transport that sends one message at a time. */
export async function sendEach(
  send: (m: OutgoingMessage) => Promise<SendResult>,
  messages: OutgoingMessage[],
): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = [];
  for (const message of messages) {
    try {
      outcomes.push({ ok: true, result: await send(message) });
    } catch (err) {
      const error = asMailError(err);
      // A fault of the connection, not of the message: the rest would fare no better. Report it for the
      // whole request, as a batch API would.
      if (error.relayUnavailable || error.rateLimited) {
        if (outcomes.length === 0) throw error;
        for (let i = outcomes.length; i < messages.length; i++) outcomes.push({ ok: false, error });
        return outcomes;
      }
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}

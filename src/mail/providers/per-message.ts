import MailComposer from 'nodemailer/lib/mail-composer';
import { asMailError, type BatchOutcome, type MailError, type OutgoingMessage, type SendResult } from '../mailer.js';
import { wholeTransport } from './http.js';

/* For APIs that take one finished message per request (SES raw, Mailgun MIME, SendGrid). */

/**
 * A finished message as MIME, built the way SMTP would carry it: nodemailer's composer, as the broadcast
 * composer uses (it bundles in the Worker through nodejs_compat).
 */
export function composeMime(m: OutgoingMessage): Promise<Buffer> {
  return new MailComposer({
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageId,
    headers: m.headers,
  })
    .compile()
    .build();
}

/**
 * `sendBatch` for an API that takes one message per request: up to `concurrency` requests at once,
 * one outcome per message, in order. After a fault of the whole transport (rate limited, unreachable,
 * misconfigured) no further request starts: the messages not yet sent get that error, as a batch API
 * would answer them. When nothing was accepted and every failure was such a fault, it is thrown for the
 * call as a whole (the `Mailer.sendBatch` contract).
 */
export async function sendConcurrently(
  send: (m: OutgoingMessage) => Promise<SendResult>,
  messages: OutgoingMessage[],
  concurrency: number,
): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = new Array(messages.length);
  let next = 0;
  let halt: MailError | undefined;
  const lane = async () => {
    while (next < messages.length) {
      const i = next++;
      if (halt) {
        outcomes[i] = { ok: false, error: halt };
        continue;
      }
      try {
        outcomes[i] = { ok: true, result: await send(messages[i]!) };
      } catch (err) {
        const error = asMailError(err);
        if (wholeTransport(error)) halt ??= error;
        outcomes[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, messages.length)) }, lane));
  if (halt && outcomes.every((o) => !o.ok && wholeTransport(o.error))) throw halt;
  return outcomes;
}

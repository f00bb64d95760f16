import { SMTPServer } from 'smtp-server';
import { describeInbound, type InboundOutcome, receiveInbound, screenInbound } from '../../core/inbound.js';
import { errorFields } from '../../log.js';
import type { Services } from '../../services.js';

/**
 * The optional inbound SMTP listener (INBOUND_SMTP_PORT): an MX, or a Postfix transport
 * (`smtp:[127.0.0.1]:2525`), hands it mail for the unsubscribe and VERP bounce addresses, and
 * src/core/inbound.ts decides. It is no relay and no mailbox:
 * - RCPT TO for any other address is refused at once (550 5.1.1), before a byte of the message is sent;
 * - the size is announced (SIZE, RFC 1870) and enforced: 552 at MAIL FROM for a declared size over
 *   INBOUND_MAX_BYTES, 552 after DATA for a message that turns out larger, and nothing past the limit is
 *   kept in memory;
 * - a message it cannot read is accepted and dropped (logged), never refused with a 5xx: the sender
 *   could do nothing better with it, and a report that bounces back would only loop;
 * - a database failure answers 451 4.3.0, so the sending server keeps the message and tries again (RFC
 *   5321 §4.2.5): an opt-out is never lost.
 * No AUTH (there is nothing to relay) and no STARTTLS (no certificate is configured); plaintext is what
 * MX-to-MX mail falls back to.
 */

export interface InboundSmtp {
  /** The port listened on (useful when 0 asked for a free one). */
  port: number;
  close(): Promise<void>;
}

const TRY_LATER = 'Temporarily unable to process this message; please try again later';
/** A sender opening many sessions at once gains nothing: the listener serves a trickle of replies and reports. */
const MAX_CLIENTS = 50;
/**
 * One sender holding connections open (idle until the 60 s timeout) must not keep every other sender out:
 * past this many from one address (an IPv6 /64, which one host can rotate through), a new one is told 421
 * (RFC 5321 §3.8), and its server tries again later. A client on this very host is the local MTA quire sits
 * behind, which limits its own connections (Postfix: smtpd_client_connection_count_limit).
 */
export const MAX_CLIENTS_PER_SENDER = 10;
const MAX_RECIPIENTS = 100;

/** Whose connections count together: an IPv4 address, or the /64 of an IPv6 one. */
export function senderKey(address: string): string {
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export async function startInboundSmtp(services: Services, opts: { port: number; host: string }): Promise<InboundSmtp> {
  const { config, log } = services;
  const max = config.INBOUND_MAX_BYTES;
  const open = new Map<string, number>();
  const counted = new Map<string, string>(); // session id → sender key
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: max,
    rejectOversized: true,
    // RFC 2034 codes in replies (5.1.1, 5.3.4, 4.3.0); no DSN extension, as nothing is relayed to notify about.
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    maxClients: MAX_CLIENTS,
    maxRecipients: MAX_RECIPIENTS,
    socketTimeout: 60_000,
    closeTimeout: 1000,
    logger: false,
    onConnect(session, callback) {
      if (session.remoteAddress === session.localAddress) return callback();
      const key = senderKey(session.remoteAddress);
      const n = open.get(key) ?? 0;
      if (n >= MAX_CLIENTS_PER_SENDER) {
        log.info('inbound mail', { via: 'smtp', status: 'deferred', route: null, reason: 'too_many_connections' });
        return callback(smtpError(421, 'Too many connections from your address; try again later'));
      }
      open.set(key, n + 1);
      counted.set(session.id, key);
      callback();
    },
    onClose(session) {
      const key = session?.id === undefined ? undefined : counted.get(session.id);
      if (key === undefined) return;
      counted.delete(session.id);
      const n = (open.get(key) ?? 1) - 1;
      if (n > 0) open.set(key, n);
      else open.delete(key);
    },
    onRcptTo(address, _session, callback) {
      const refused = screenInbound(config, address.address);
      if (!refused) return callback();
      log.info('inbound mail', { via: 'smtp', ...refused });
      callback(smtpError(550, describeInbound(refused, config)));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // The hard cut: past the limit the rest is read and discarded, never held.
        if (size <= max) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded || size > max) {
          // rejectOversized answers 552 (5.3.4) whatever this callback says.
          log.info('inbound mail', { via: 'smtp', status: 'rejected', route: null, reason: 'too_large' });
          return callback(
            smtpError(552, describeInbound({ status: 'rejected', route: null, reason: 'too_large' }, config)),
          );
        }
        const raw = Buffer.concat(chunks);
        receiveAll(
          services,
          raw,
          session.envelope.rcptTo.map((r) => r.address),
        ).then(
          () => callback(null, 'Accepted'),
          (err: unknown) => {
            log.error('inbound mail failed', { via: 'smtp', ...errorFields(err) });
            callback(smtpError(451, TRY_LATER));
          },
        );
      });
    },
  });
  // A client that drops its connection is not the listener's failure; anything else is logged.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') log.warn('inbound SMTP error', errorFields(err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One message, each of its (already screened) recipients in turn; the outcomes are logged, never the addresses. */
async function receiveAll(services: Services, raw: Buffer, recipients: string[]): Promise<InboundOutcome[]> {
  const outcomes: InboundOutcome[] = [];
  for (const to of recipients) {
    const outcome = await receiveInbound(services, { raw, to });
    services.log.info('inbound mail', { via: 'smtp', ...outcome });
    outcomes.push(outcome);
  }
  return outcomes;
}

import { join } from 'node:path';
import type { Config } from '../../config.js';
import { dkimFromConfig } from '../../mail/dkim.js';
import { mailTransports } from '../../mail/dsn/index.js';
import type { Mailer } from '../../mail/mailer.js';
import { createTransport } from '../../mail/transport.js';

/** The capture mailbox's directory: development mail lands here and the /_dev/mail page reads it. */
export const captureDir = (config: Config) => join(config.QUIRE_DATA_DIR, 'mail');

/** Whether mail is captured (no MAIL_DSN or SMTP_URL): development's default. */
export const capturesMail = (config: Config) => mailTransports(config).transactional === undefined;

/**
 * The transports MAIL_DSN (or SMTP_URL) and BROADCAST_MAIL_DSN name, or the capture mailbox in
 * `$QUIRE_DATA_DIR/mail` when none is set.
 */
export async function createMailers(config: Config): Promise<{ mailer: Mailer; broadcastMailer?: Mailer | undefined }> {
  const specs = mailTransports(config);
  if (!specs.transactional) {
    const { createCaptureMailer } = await import('../../mail/capture.js');
    return { mailer: createCaptureMailer(captureDir(config), dkimFromConfig(config)) };
  }
  const parts = { maxConnections: config.DELIVERY_CONCURRENCY, dkim: dkimFromConfig(config) };
  const mailer = createTransport(specs.transactional, parts);
  return {
    mailer,
    broadcastMailer: config.BROADCAST_MAIL_DSN ? createTransport(config.BROADCAST_MAIL_DSN, parts) : undefined,
  };
}

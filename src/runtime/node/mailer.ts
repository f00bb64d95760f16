import { join } from 'node:path';
import type { Config } from '../../config.js';
import { dkimFromConfig } from '../../mail/dkim.js';
import type { Mailer } from '../../mail/mailer.js';

/** The capture mailbox's directory: development mail lands here and the /_dev/mail page reads it. */
export const captureDir = (config: Config) => join(config.QUIRE_DATA_DIR, 'mail');

/** SMTP when SMTP_URL is set, otherwise the capture mailbox in `$QUIRE_DATA_DIR/mail`. */
export async function createMailer(config: Config): Promise<Mailer> {
  if (config.SMTP_URL) {
    const { createSmtpMailer } = await import('../../mail/smtp.js');
    return createSmtpMailer({ url: config.SMTP_URL, maxConnections: config.DELIVERY_CONCURRENCY, dkim: dkimFromConfig(config) });
  }
  const { createCaptureMailer } = await import('../../mail/capture.js');
  return createCaptureMailer(captureDir(config));
}

import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { greetingFor } from '../../emails/_components/broadcast-context.js';
import { templates } from '../../emails/index.js';
import { buildMimeTemplate } from '../../src/mail/mime-template.js';
import { personalisedBase64, renderOnce } from '../../src/mail/personalise.js';

/** One message as quire builds it for a broadcast (release announcement, one recipient): the bytes the baseline sends. */
export async function sampleBroadcastMessage(): Promise<Buffer> {
  const t = templates['release-announcement']!;
  const once = await renderOnce(t, t.previewProps, {
    preheader: 'The book is available today.',
    lang: 'en',
    bookTitle: 'How Teams Think Before They Build',
    postalAddress: 'Jane Author, 1 Example Street, Springfield',
  });
  const mime = await buildMimeTemplate({
    from: 'Jane Author <news@example.com>',
    subject: 'How Teams Think Before They Build is out',
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  });
  const slots = {
    greeting: greetingFor('Reader 1'),
    unsubscribeUrl: 'https://news.example.com/unsubscribe/AQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    preferencesUrl: 'https://news.example.com/preferences/AQIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  };
  return mime({
    to: 'reader1@example.com',
    messageId: '<00000000-0000-4000-8000-000000000000@example.com>',
    listUnsubscribe: `<${slots.unsubscribeUrl}>, <mailto:unsubscribe@example.com?subject=unsubscribe>`,
    ...personalisedBase64(once, slots),
  });
}

/**
 * The wire's ceiling with nodemailer: `SMTPConnection.send` of one pre-built message, `n` times over
 * `connections` connections, in this process. Returns messages/s and this process's CPU seconds.
 */
export async function rawSmtpBaseline(
  url: string,
  message: Buffer,
  n: number,
  connections = 8,
): Promise<{ rate: number; cpuSeconds: number }> {
  const { hostname, port } = new URL(url);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new SMTPConnection({ host: hostname, port: Number(port), ignoreTLS: true });
      await new Promise<void>((resolve, reject) => {
        c.once('error', reject);
        c.connect(() => resolve());
      });
      while (next < n) {
        next++;
        await new Promise((resolve, reject) =>
          c.send({ from: 'news@example.com', to: ['reader1@example.com'] }, message, (err, info) =>
            err ? reject(err) : resolve(info),
          ),
        );
      }
      c.quit();
    }),
  );
  const rate = n / ((performance.now() - started) / 1000);
  const used = process.cpuUsage(cpu);
  return { rate, cpuSeconds: (used.user + used.system) / 1e6 };
}

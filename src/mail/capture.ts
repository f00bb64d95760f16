import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { DkimOptions } from './dkim.js';
import { type Mailer, type OutgoingMessage, sendEach } from './mailer.js';
import { forTheWire } from './smtp.js';

/**
 * Development mailbox: every message is written as a real RFC 5322 .eml file (built by nodemailer's
 * own MIME composer, so what you read is what SMTP would carry) under `dir`. Signed like SMTP mail
 * when DKIM is configured, so the signature can be checked here before anything goes out.
 */
export function createCaptureMailer(dir: string, dkim?: DkimOptions | undefined): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  let ready: Promise<unknown> | undefined;
  const mailer: Mailer = {
    name: 'capture',
    maxBatch: 1,
    sendBatch: (messages) => sendEach(mailer.send, messages),
    async send(message: OutgoingMessage) {
      ready ??= mkdir(dir, { recursive: true });
      await ready;
      const info = await transport.sendMail(await forTheWire(message, dkim));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const id = message.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9.@-]/g, '_');
      await writeFile(join(dir, `${stamp}-${id}.eml`), info.message as Buffer);
      // The .eml is quoted-printable, which folds long links; a plain-text twin keeps them clickable.
      const summary = `To: ${message.to}\nSubject: ${message.subject}\n\n${message.text}\n`;
      // (for raw broadcast messages, subject and text are filled in by the composer as well)
      await writeFile(join(dir, `${stamp}-${id}.txt`), summary);
      return { messageId: info.messageId };
    },
    async close() {},
  };
  return mailer;
}

export interface CapturedMail {
  id: string;
  subject: string;
  to: string;
  date: string;
  html: string;
  text: string;
  headers: [string, string][];
  raw: string;
}

/** Reads the capture directory back for the development mailbox page. */
export interface CaptureMailbox {
  list(): Promise<Omit<CapturedMail, 'html' | 'text' | 'headers' | 'raw'>[]>;
  read(id: string): Promise<CapturedMail | undefined>;
}

export function createCaptureMailbox(dir: string): CaptureMailbox {
  const parse = async (file: string): Promise<CapturedMail | undefined> => {
    const { readFile } = await import('node:fs/promises');
    const { simpleParser } = await import('mailparser');
    let raw: string;
    try {
      raw = await readFile(join(dir, file), 'utf8');
    } catch {
      return undefined;
    }
    const mail = await simpleParser(raw);
    const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? '');
    const headers: [string, string][] = mail.headerLines.map((h) => [
      h.key,
      h.line.slice(h.line.indexOf(':') + 1).trim(),
    ]);
    return {
      id: file.replace(/\.eml$/, ''),
      subject: mail.subject ?? '(no subject)',
      to,
      date: (mail.date ?? new Date(0)).toISOString(),
      html: typeof mail.html === 'string' ? mail.html : '',
      text: mail.text ?? '',
      headers,
      raw,
    };
  };
  return {
    async list() {
      const { readdir } = await import('node:fs/promises');
      const files = (await readdir(dir).catch(() => [] as string[]))
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .reverse()
        .slice(0, 200);
      const mails = await Promise.all(files.map(parse));
      return mails
        .filter((m): m is CapturedMail => !!m)
        .map(({ id, subject, to, date }) => ({ id, subject, to, date }));
    },
    async read(id) {
      if (!/^[A-Za-z0-9._@-]+$/.test(id)) return undefined;
      return parse(`${id}.eml`);
    },
  };
}

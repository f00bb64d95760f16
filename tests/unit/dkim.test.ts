import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { afterAll, describe, expect, it } from 'vitest';
import { createCaptureMailer } from '../../src/mail/capture.js';
import { type DkimOptions, signMessage } from '../../src/mail/dkim.js';
import { listIdValue } from '../../src/mail/headers.js';
import type { OutgoingMessage } from '../../src/mail/mailer.js';
import { forTheWire } from '../../src/mail/smtp.js';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkim: DkimOptions = {
  domainName: 'quire.test',
  keySelector: 'news2026',
  privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};
const publicKey = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

// The verifier is mailauth, written by others: quire's signer is checked against it, not against itself.
const resolver = async (name: string, type: string) => {
  if (type === 'TXT' && name === 'news2026._domainkey.quire.test') return [[`v=DKIM1; k=rsa; p=${publicKey}`]];
  throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
};
const verdict = async (raw: Buffer | string) => (await dkimVerify(raw, { resolver })).results[0]?.status.result;

const message: OutgoingMessage = {
  from: 'Jane Author <news@quire.test>',
  to: 'reader@example.com',
  subject: 'Out now: Grüße 📘',
  html: '<p>Hello   there  </p>\n\n\n',
  text: 'Hello\t there  \n\n',
  messageId: '<1@quire.test>',
  headers: {
    'List-Unsubscribe': '<https://quire.test/unsubscribe/T>, <mailto:unsubscribe@quire.test?subject=unsubscribe%20T>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': listIdValue('How Teams Think (updates)', 'updates', 'quire.test'),
  },
};

async function signed(): Promise<Buffer> {
  const options = await forTheWire(message, dkim);
  return options.raw as Buffer;
}

describe('DKIM signing', () => {
  it('verifies with an independent verifier', async () => {
    expect(await verdict(await signed())).toBe('pass');
  });

  // Guards against a signature that survives a second From or List-Unsubscribe added on top (RFC 6376 §8.15).
  it.each([
    'From: Someone Else <ceo@example.net>',
    'Subject: Urgent: reset your password',
    'List-Unsubscribe: <https://evil.example/unsubscribe>',
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
  ])('no longer verifies with "%s" added on top', async (field) => {
    const raw = (await signed()).toString('latin1');
    // Added after the signature field, as a forwarder appending a header would.
    const at = raw.indexOf('\r\nFrom:');
    const tampered = `${raw.slice(0, at)}\r\n${field}${raw.slice(at)}`;
    expect(await verdict(Buffer.from(tampered, 'latin1'))).not.toBe('pass');
  });

  it('over-signs From, Subject, List-Unsubscribe and List-Unsubscribe-Post', async () => {
    const raw = (await signed()).toString('latin1');
    const h = /\bh=([^;]+)/
      .exec(raw.replace(/\r\n\s+/g, ' '))![1]!
      .replace(/\s/g, '')
      .split(':');
    for (const name of ['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post'])
      expect(
        h.filter((n) => n === name),
        name,
      ).toHaveLength(2);
    expect(h.filter((n) => n === 'list-id')).toHaveLength(1);
  });

  it('signs a message built elsewhere (broadcast MIME) as it stands', async () => {
    const raw = Buffer.from(
      'From: a@quire.test\r\nTo: b@example.com\r\nSubject: x\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\nbody\r\n',
    );
    expect(await verdict(signMessage(raw, dkim))).toBe('pass');
  });
});

describe('captured mail', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  // Guards against a development mailbox that shows unsigned mail when DKIM is configured.
  it('is signed when DKIM is configured, so the .eml is what the wire would carry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quire-capture-'));
    dirs.push(dir);
    const mailer = createCaptureMailer(dir, dkim);
    await mailer.send(message);
    const eml = (await readdir(dir)).find((f) => f.endsWith('.eml'))!;
    const raw = await readFile(join(dir, eml));
    expect(raw.toString('latin1')).toMatch(/^DKIM-Signature: /);
    expect(await verdict(raw)).toBe('pass');
  });
});

describe('List-Id', () => {
  // Guards against list mail without a List-Id, or one that changes with the wording of the name (RFC 2919).
  it('is one identifier per topic under the sending domain, with an encoded phrase', () => {
    expect(listIdValue('Plain "Book" (updates)', 'updates', 'quire.test')).toBe(
      '"Plain \\"Book\\" (updates)" <updates.quire.test>',
    );
    const encoded = listIdValue('Ève Müller’s book — a very long title that goes on (release)', 'release', 'x.test');
    expect(encoded).toMatch(/^(=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= )+<release\.x\.test>$/);
    for (const word of encoded.split(' ').slice(0, -1)) expect(word.length).toBeLessThanOrEqual(75);
  });
});

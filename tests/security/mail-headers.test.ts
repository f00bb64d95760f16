import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greetingFor } from '../../emails/_components/broadcast-context.js';
import { templates } from '../../emails/index.js';
import { admin, createTopic, draftBroadcast } from '../support/broadcasts.js';
import { activeSubscriber, pathOf, uniqueEmail } from '../support/factories.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness } from '../support/harness.js';
import type { ReceivedMail } from '../support/smtp-sink.js';
import { checkAnswer, insertActiveSubscriber, tableCounts } from './support.js';

/**
 * Email header injection, checked on the RAW message as the SMTP server received it. Names and
 * subjects with CR/LF or any other control character are refused (422) wherever they come in; what is
 * accepted — Unicode line separators, NEL, encoded-word look-alikes, "Bcc:" as plain text — lands in
 * encoded headers or in base64 bodies, and never makes a header, a recipient or a line of its own.
 */

const HEADERS = new Set([
  'from',
  'to',
  'subject',
  'message-id',
  'date',
  'mime-version',
  'content-type',
  'auto-submitted',
  'list-unsubscribe',
  'list-unsubscribe-post',
  // RFC 2919: every broadcast names its list (topic) since List-Id was added.
  'list-id',
]);
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
const CONTROL = /[\u0000-\u001f\u007f]/;

/** mailparser turns Unicode line separators into spaces when it reads a message; compare in that form. */
const asRead = (s: string) => s.replace(/[\u2028\u2029\u0085]/g, ' ');

/** The message's top-level header block, unfolded, one entry per header. */
function headersOf(mail: ReceivedMail): { name: string; value: string }[] {
  const end = mail.raw.indexOf('\r\n\r\n');
  expect(end).toBeGreaterThan(0);
  const block = mail.raw.slice(0, end);
  // Only CRLF line ends, no bare CR or LF, and nothing but ASCII (non-ASCII must be MIME-encoded).
  expect(block.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  expect(block).toMatch(/^[\x20-\x7e\r\n\t]*$/);
  return block
    .replace(/\r\n(?=[ \t])/g, '') // unfold (RFC 5322 §2.2.3): the folding whitespace stays
    .split('\r\n')
    .map((line) => {
      const m = /^([A-Za-z0-9-]+): ?(.*)$/.exec(line);
      expect(m, `not a header line: ${JSON.stringify(line)}`).not.toBeNull();
      return { name: m![1]!.toLowerCase(), value: m![2]! };
    });
}

/** The invariants of every message: known headers only, one To and one Subject, one envelope recipient. */
function expectClean(mail: ReceivedMail, recipient: string, envelopeRecipient = recipient) {
  const headers = headersOf(mail);
  for (const { name } of headers) expect(HEADERS.has(name), `unexpected header ${name}`).toBe(true);
  for (const name of ['from', 'to', 'subject', 'message-id', 'date'])
    expect(
      headers.filter((x) => x.name === name),
      name,
    ).toHaveLength(1);
  expect(headers.find((x) => x.name === 'to')!.value).toBe(recipient);
  expect(mail.envelope.to).toEqual([envelopeRecipient]);
  expect(mail.parsed.bcc).toBeUndefined();
  expect(mail.parsed.cc).toBeUndefined();
  expect(mail.parsed.replyTo).toBeUndefined();
}

/** Names that pass validation but look like trouble. */
const ODD_NAMES = [
  'Ada\u2028Bcc: x@evil.example',
  'Ada\u2029Cc: x@evil.example',
  'Ada\u0085Bcc: x@evil.example',
  'Bcc: x@evil.example',
  '=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?=',
  'Ada <x@evil.example>, Eve',
  '"Ada" <evil@evil.example>',
  'Ada\u202eevil',
  'Zoë 🙂 Łukasz 李',
  `${'Long name '.repeat(19)}end`,
];
/** Names that must be refused: a control character anywhere inside. */
const BAD_NAMES = [
  'Ada\r\nBcc: x@evil.example',
  'Ada\nBcc: x@evil.example',
  'Ada\rBcc: x@evil.example',
  'Ada\u0000',
  'Ada\tBcc: x',
  'A\u000bda',
  'A\u000cda',
  'Ada\u007f',
  'Ada\r\n\r\n<html>',
];

describe.each(databaseKinds)('email header injection on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('a name with a control character is refused on every way in, and nothing is stored or sent', async () => {
    const sub = await activeSubscriber(h, { name: 'Kept' });
    await h.deliver();
    const before = await tableCounts(h);
    const mails = h.smtp.messages.length;
    for (const name of BAD_NAMES) {
      const email = uniqueEmail('bad-name');
      const form = new FormData();
      form.set('email', email);
      form.set('consent', 'on');
      form.set('name', name);
      const attempts: [string, string, RequestInit][] = [
        [
          'JSON signup',
          '/v1/subscriptions',
          {
            method: 'POST',
            body: JSON.stringify({ email, consent: true, name }),
            headers: { 'content-type': 'application/json' },
          },
        ],
        [
          'form signup',
          '/v1/subscriptions',
          {
            method: 'POST',
            body: new URLSearchParams({ email, consent: 'on', name }).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          },
        ],
        ['multipart signup', '/v1/subscriptions', { method: 'POST', body: form }],
        [
          'PUT preferences',
          `/v1/preferences/${sub.preferencesToken}`,
          { method: 'PUT', body: JSON.stringify({ name }), headers: { 'content-type': 'application/json' } },
        ],
        [
          'preference page',
          pathOf(sub.preferencesUrl),
          {
            method: 'POST',
            body: new URLSearchParams({ intent: 'save', name, topics: 'release' }).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.config.PUBLIC_URL },
          },
        ],
        [
          'admin import',
          '/admin/v1/subscribers/import',
          {
            method: 'POST',
            body: JSON.stringify({ rows: [{ email, name, consent_at: '2026-01-01T00:00:00Z' }] }),
            headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          },
        ],
      ];
      for (const [label, path, init] of attempts) {
        const res = await h.request(path, {
          ...init,
          headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
        });
        const { status, json } = await checkAnswer(res, `${label} with ${JSON.stringify(name)}`);
        if (label === 'admin import') {
          // The import answers 200 with a per-row report; the row itself is refused.
          expect(status).toBe(200);
          const report = json as unknown as { invalid: number; invalid_rows: { field: string }[] };
          expect(report.invalid).toBe(1);
          expect(report.invalid_rows.map((r) => r.field)).toEqual(['name']);
        } else {
          expect(status, `${label} with ${JSON.stringify(name)}`).toBe(422);
          expect(json?.error?.fields).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'name' })]));
        }
      }
    }
    await h.deliver();
    expect(await tableCounts(h)).toEqual(before);
    expect(h.smtp.messages.length).toBe(mails);
    const [row] = await h.query<{ name: string }>('select name from subscribers where id = $1', [sub.id]);
    expect(row!.name).toBe('Kept');
  });

  it('odd but valid names go through confirmation, welcome and a broadcast without making a header', async () => {
    const topic = await createTopic(h);
    const people: { email: string; name: string }[] = [];
    for (const name of ODD_NAMES) {
      const sub = await activeSubscriber(h, { name });
      await h.query('insert into subscriptions (subscriber_id, topic, subscribed) values ($1, $2, true)', [
        sub.id,
        topic,
      ]);
      people.push({ email: sub.email, name });
    }
    const draft = await draftBroadcast(h, { topic, subject: 'Chapter 21 is out' });
    expect((await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' })).status).toBe(202);
    await h.deliver();
    for (const { email, name } of people) {
      const mails = h.smtp.to(email);
      expect(mails.map((m) => m.parsed.subject)).toEqual([
        'Confirm your subscription to How Teams Think Before They Build',
        "You're on the list for How Teams Think Before They Build",
        'Chapter 21 is out',
      ]);
      for (const mail of mails) expectClean(mail, email);
      // The name is where it belongs: in the greeting of the bodies (by first name since it greets so), intact.
      const broadcast = mails[2]!;
      expect(asRead(broadcast.parsed.text ?? '')).toContain(asRead(greetingFor(name)));
      expect(broadcast.raw).not.toContain(name.slice(0, 12));
    }
    expect(h.smtp.messages.filter((m) => m.envelope.to.some((t) => t.endsWith('evil.example')))).toEqual([]);
  });

  it('any name: refused exactly when it holds a control character; accepted ones never make a header (property)', async () => {
    const topic = await createTopic(h);
    const accepted: { email: string; name: string }[] = [];
    const names = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc
        .tuple(
          fc.string({ maxLength: 10 }),
          fc.constantFrom(
            '\r\n',
            '\n',
            '\r',
            '\u0000',
            '\u2028',
            '\u0085',
            'Bcc: x@evil.example',
            '\r\nBcc: x@evil.example',
            '=?utf-8?q?=0D=0A?=',
          ),
          fc.string({ maxLength: 10 }),
        )
        .map(([a, b, c]) => a + b + c),
    );
    await fc.assert(
      fc.asyncProperty(names, async (name) => {
        const sub = await insertActiveSubscriber(h, uniqueEmail('prop-name'));
        await h.query('insert into subscriptions (subscriber_id, topic, subscribed) values ($1, $2, true)', [
          sub.id,
          topic,
        ]);
        const res = await h.request(`/v1/preferences/${sub.preferencesToken}`, {
          method: 'PUT',
          body: JSON.stringify({ name }),
          headers: { 'content-type': 'application/json', accept: 'application/json' },
        });
        const { status } = await checkAnswer(res, JSON.stringify(name));
        const trimmed = name.trim();
        if (CONTROL.test(trimmed) || trimmed.length > 200) {
          expect(status, JSON.stringify(name)).toBe(422);
        } else {
          expect(status, JSON.stringify(name)).toBe(200);
          const [row] = await h.query<{ name: string | null }>('select name from subscribers where id = $1', [sub.id]);
          // A lone surrogate cannot be stored as UTF-8: it becomes U+FFFD, as any UTF-8 encoder does.
          const wellFormed = trimmed.replace(
            /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
            '\ufffd',
          );
          expect(row!.name).toBe(trimmed === '' ? null : wellFormed);
          accepted.push({ email: sub.email, name: trimmed });
        }
      }),
      { numRuns: 100 },
    );
    expect(accepted.length).toBeGreaterThan(20);
    const draft = await draftBroadcast(h, { topic, subject: 'Names' });
    expect((await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' })).status).toBe(202);
    await h.deliver();
    for (const { email } of accepted) {
      const mails = h.smtp.to(email);
      expect(mails).toHaveLength(1);
      expectClean(mails[0]!, email);
    }
  });

  it('a broadcast subject or preheader with CR, LF or another control character inside is refused 422, and no draft is stored', async () => {
    const before = await tableCounts(h);
    for (const bad of [
      'Hi\r\nBcc: victim@example.com',
      'Hi\nBcc: x',
      'Hi\rBcc: x',
      'Hi\u0000',
      'Hi\tthere',
      'Hi\u000bthere',
      'Hi\u000cthere',
      'Hi\u007f',
      'Hi\r\n\r\n<html>',
    ]) {
      for (const field of ['subject', 'preheader']) {
        const res = await admin(h, '/admin/v1/broadcasts', {
          method: 'POST',
          body: JSON.stringify({
            template: 'update-announcement',
            topic: 'updates',
            subject: 'Fine',
            preheader: 'Fine',
            [field]: bad,
            props: templates['update-announcement']!.previewProps,
          }),
        });
        const { status, json } = await checkAnswer(res, `${field} ${JSON.stringify(bad)}`);
        expect(status).toBe(422);
        expect(json?.error?.fields).toEqual([expect.objectContaining({ path: field })]);
      }
    }
    expect(await tableCounts(h)).toEqual(before);
  });

  it('any subject: refused exactly when it holds a control character; an accepted one arrives intact in one encoded Subject (property)', async () => {
    const author = uniqueEmail('author');
    const sent: { id: string; subject: string }[] = [];
    const subjects = fc.oneof(
      fc.string({ minLength: 1, maxLength: 80 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
      fc
        .tuple(
          fc.string({ maxLength: 20 }),
          fc.constantFrom(
            '\r\n',
            '\n',
            '\r',
            '\u0000',
            '\u2028',
            '\u0085',
            '\r\nBcc: x@evil.example',
            '=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?=',
            'Subject: again',
          ),
          fc.string({ maxLength: 20 }),
        )
        .map(([a, b, c]) => a + b + c),
    );
    await fc.assert(
      fc.asyncProperty(subjects, async (subject) => {
        const before = (await tableCounts(h)).broadcasts;
        const res = await admin(h, '/admin/v1/broadcasts', {
          method: 'POST',
          body: JSON.stringify({
            template: 'update-announcement',
            topic: 'updates',
            subject,
            props: templates['update-announcement']!.previewProps,
          }),
        });
        const { status, json } = await checkAnswer(res, JSON.stringify(subject));
        const trimmed = subject.trim();
        if (CONTROL.test(trimmed) || trimmed.length === 0 || trimmed.length > 200) {
          expect(status, JSON.stringify(subject)).toBe(422);
          expect((await tableCounts(h)).broadcasts).toBe(before);
          return;
        }
        expect(status, JSON.stringify(subject)).toBe(201);
        const id = (json as unknown as { id: string }).id;
        expect(
          (
            await admin(h, `/admin/v1/broadcasts/${id}/test`, {
              method: 'POST',
              body: JSON.stringify({ to: [author] }),
            })
          ).status,
        ).toBe(202);
        sent.push({ id, subject: trimmed });
      }),
      { numRuns: 100 },
    );
    expect(sent.length).toBeGreaterThan(20);
    await h.deliver();
    const mails = h.smtp.to(author);
    expect(mails).toHaveLength(sent.length);
    const decoded = new Set(mails.map((m) => asRead(m.parsed.subject ?? '')));
    const verbatim = new Set<string>();
    for (const mail of mails) {
      expectClean(mail, author);
      verbatim.add(headersOf(mail).find((x) => x.name === 'subject')!.value);
    }
    for (const { subject } of sent) {
      // Either the reader decodes the encoded Subject back to exactly what the author typed, or (plain
      // ASCII) the header carries it verbatim. An all-ASCII subject that itself looks like an RFC 2047
      // encoded word is sent as typed and readers decode it for display: see docs/security.md.
      const expected = `[Test] ${subject}`;
      expect(decoded.has(asRead(expected)) || verbatim.has(expected), JSON.stringify(subject)).toBe(true);
    }
  });

  it('a test send to an address carrying a header, a second address or a display name is refused and sends nothing', async () => {
    const draft = await draftBroadcast(h);
    await h.deliver();
    const before = await tableCounts(h);
    const mails = h.smtp.messages.length;
    for (const to of [
      'me@example.com\r\nBcc: x@evil.example',
      'me@example.com\nBcc: x@evil.example',
      'me@example.com, x@evil.example',
      'me@example.com;x@evil.example',
      'Me <me@example.com>',
      '<me@example.com>',
      'me@example.com\u0000x@evil.example',
      '"x@evil.example" me@example.com',
    ]) {
      const res = await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
        method: 'POST',
        body: JSON.stringify({ to: [to] }),
      });
      const { status, json } = await checkAnswer(res, JSON.stringify(to));
      expect(status).toBe(422);
      expect(json?.error?.code).toBe('invalid_email');
    }
    await h.deliver();
    expect(await tableCounts(h)).toEqual(before);
    expect(h.smtp.messages.length).toBe(mails);
  });

  it('an internationalised domain is sent in its ASCII (A-label) form in the To header, and the header block stays ASCII', async () => {
    const local = `idn.${process.pid}.${Date.now().toString(36)}`;
    const res = await h.request('/v1/subscriptions', {
      method: 'POST',
      body: JSON.stringify({ email: `${local}@bücher.example`, consent: true }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(202);
    await h.deliver();
    // The sink (smtp-server) shows RCPT TO domains decoded back to Unicode; the raw To header is what went out.
    const [mail] = h.smtp.to(`${local}@bücher.example`);
    expect(mail).toBeDefined();
    expectClean(mail!, `${local}@xn--bcher-kva.example`, `${local}@bücher.example`);
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundRoute, receiveInbound } from '../../src/core/inbound.js';
import { signLinkToken } from '../../src/core/tokens.js';
import { unsubscribeMailto, verpAddress } from '../../src/mail/headers.js';
import { activeSubscriber, lastMailTo, pendingSubscriber } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness, TEST_SECRET } from '../support/harness.js';
import { dsnMail, largeMail, mailtoOf, plainMail, unsubscribeMail } from './inbound-mail.js';

/**
 * src/core/inbound.ts: mail to the unsubscribe address (RFC 2369 mailto, RFC 8058 §3.2: any message
 * counts) and to the VERP bounce address (RFC 3464 reports), and the VERP envelope sender of
 * transactional mail that makes signup typos come back.
 */

const BOUNCES = 'bounces@quire.test';
const UNSUBSCRIBE = 'unsubscribe@quire.test';
const MAX = 16_384;

const config = { MAIL_FROM: 'Book <updates@quire.test>', BOUNCE_ADDRESS: BOUNCES };

describe('the inbound addresses', () => {
  it('reads back what src/mail/headers.ts builds', () => {
    const id = randomUUID();
    expect(verpAddress(BOUNCES, id)).toBe(`bounces+${id}@quire.test`);
    expect(inboundRoute(config, verpAddress(BOUNCES, id))).toEqual({ kind: 'bounce', deliveryId: id });
    expect(inboundRoute(config, mailtoOf(`<${unsubscribeMailto('quire.test', 'tok')}>`).address)).toEqual({
      kind: 'unsubscribe',
    });
  });

  it('takes angle brackets and any case, and nothing else', () => {
    const id = randomUUID();
    expect(inboundRoute(config, `<Bounces+${id.toUpperCase()}@Quire.Test>`)).toEqual({
      kind: 'bounce',
      deliveryId: id,
    });
    expect(inboundRoute(config, 'UNSUBSCRIBE@quire.test')).toEqual({ kind: 'unsubscribe' });
    expect(inboundRoute(config, BOUNCES)).toEqual({ kind: 'bounce', deliveryId: undefined });
    expect(inboundRoute(config, 'bounces+not-an-id@quire.test')).toEqual({ kind: 'bounce', deliveryId: undefined });
    for (const other of [
      'updates@quire.test',
      'unsubscribe@other.example',
      `bounces+${id}@other.example`,
      'bouncesx@quire.test',
      'nobody',
      '',
    ]) {
      expect(inboundRoute(config, other), other).toBeUndefined();
    }
    // Without BOUNCE_ADDRESS there is no bounce address.
    expect(
      inboundRoute({ MAIL_FROM: config.MAIL_FROM, BOUNCE_ADDRESS: undefined }, `bounces+${id}@quire.test`),
    ).toBeUndefined();
  });
});

describe.each(databaseKinds)('inbound mail on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { BOUNCE_ADDRESS: BOUNCES, INBOUND_MAX_BYTES: String(MAX) });
  });
  afterAll(() => h?.close());

  const statusOf = async (id: string) =>
    (await h.query<{ status: string }>('select status from subscribers where id = $1', [id]))[0]?.status;
  const ledger = (id: string) =>
    h.query<{ kind: string; source: string }>(
      'select kind, source from consent_events where subscriber_id = $1 order by seq',
      [id],
    );
  const receive = (raw: string | Uint8Array, to: string) => receiveInbound(h.services, { raw, to });

  it('sends confirmation and welcome mail with the VERP return path when BOUNCE_ADDRESS is set', async () => {
    const sub = await activeSubscriber(h);
    const rows = await h.query<{ id: string; kind: string }>(
      'select id, kind from deliveries where subscriber_id = $1 order by created_at',
      [sub.id],
    );
    expect(rows.map((r) => r.kind)).toEqual(['confirmation', 'welcome']);
    const mails = h.smtp.to(sub.email);
    expect(mails.map((m) => m.envelope.from)).toEqual(rows.map((r) => `bounces+${r.id}@quire.test`));
  });

  it('a DSN to the VERP address of a confirmation suppresses the typo, by the envelope alone', async () => {
    const { email } = await pendingSubscriber(h);
    const [row] = await h.query<{ id: string; subscriber_id: string }>(
      "select d.id, d.subscriber_id from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = $1 and d.kind = 'confirmation'",
      [email],
    );
    const to = lastMailTo(h, email).envelope.from;
    expect(to).toBe(`bounces+${row!.id}@quire.test`);
    // The report names no recipient and no original message: only the envelope says whose bounce it is.
    const outcome = await receive(dsnMail({}), to);
    expect(outcome).toEqual({ status: 'done', route: 'bounce', reason: 'dsn', reports: 1, suppressed: 1, unknown: 0 });
    expect(await statusOf(row!.subscriber_id)).toBe('bounced');
    const [delivery] = await h.query<{ status: string }>('select status from deliveries where id = $1', [row!.id]);
    expect(delivery!.status).toBe('bounced');
    expect((await ledger(row!.subscriber_id)).at(-1)).toEqual({ kind: 'suppressed', source: 'dsn:hard_bounce' });
    const suppressed = await h.query(
      'select 1 from suppressions s join subscribers b on b.email_hash = s.email_hash where b.id = $1',
      [row!.subscriber_id],
    );
    expect(suppressed).toHaveLength(1);
  });

  it('a DSN naming the recipient is matched through the envelope delivery, not the address', async () => {
    const sub = await activeSubscriber(h);
    const [welcome] = await h.query<{ id: string }>(
      "select id from deliveries where subscriber_id = $1 and kind = 'welcome'",
      [sub.id],
    );
    const outcome = await receive(dsnMail({ recipient: sub.email }), verpAddress(BOUNCES, welcome!.id));
    expect(outcome).toMatchObject({ status: 'done', suppressed: 1, unknown: 0 });
    expect(await statusOf(sub.id)).toBe('bounced');
  });

  it('a forged DSN naming a subscriber’s address, without one of our delivery ids, changes nothing', async () => {
    const sub = await activeSubscriber(h);
    for (const to of [BOUNCES, verpAddress(BOUNCES, randomUUID())]) {
      const outcome = await receive(dsnMail({ recipient: sub.email, headerTo: sub.email }), to);
      expect(outcome).toMatchObject({ status: 'done', route: 'bounce', suppressed: 0, unknown: 1 });
    }
    expect(await statusOf(sub.id)).toBe('active');
  });

  it('a mailto unsubscribe (the List-Unsubscribe target, as a mail client sends it) unsubscribes, with its ledger event', async () => {
    const sub = await activeSubscriber(h);
    const header = sub.welcome.parsed.headerLines.find((l) => l.key === 'list-unsubscribe')!.line;
    const mailto = mailtoOf(header);
    expect(mailto.address).toBe(UNSUBSCRIBE);
    expect(mailto.subject).toMatch(/^unsubscribe [A-Za-z0-9_-]{51}$/);

    const outcome = await receive(unsubscribeMail({ to: mailto.address, subject: mailto.subject }), mailto.address);
    expect(outcome).toEqual({ status: 'done', route: 'unsubscribe', reason: 'unsubscribed' });
    expect(await statusOf(sub.id)).toBe('unsubscribed');
    expect((await ledger(sub.id)).at(-1)).toEqual({ kind: 'unsubscribed', source: 'mailto' });
    expect(
      await h.query(
        'select 1 from suppressions s join subscribers b on b.email_hash = s.email_hash where b.id = $1 and s.reason = $2',
        [sub.id, 'unsubscribed'],
      ),
    ).toHaveLength(1);

    // Sent twice (a client retrying): the same answer, no second event.
    expect(
      await receive(unsubscribeMail({ to: mailto.address, subject: mailto.subject }), mailto.address),
    ).toMatchObject({ reason: 'already_unsubscribed' });
    expect((await ledger(sub.id)).filter((e) => e.kind === 'unsubscribed')).toHaveLength(1);
  });

  it('finds the token anywhere when the subject lost it: a reply quoting the newsletter, an encoded subject', async () => {
    const a = await activeSubscriber(h);
    const quoted = `Please stop.\n\n> To unsubscribe: ${a.unsubscribeUrl}\n`;
    expect(
      await receive(unsubscribeMail({ to: UNSUBSCRIBE, subject: 'Re: your newsletter', body: quoted }), UNSUBSCRIBE),
    ).toMatchObject({ reason: 'unsubscribed' });
    expect(await statusOf(a.id)).toBe('unsubscribed');

    const b = await activeSubscriber(h);
    const token = b.unsubscribeUrl.split('/').pop()!;
    expect(
      await receive(unsubscribeMail({ to: UNSUBSCRIBE, subject: `unsubscribe%20${token}` }), UNSUBSCRIBE),
    ).toMatchObject({ reason: 'unsubscribed' });
    expect(await statusOf(b.id)).toBe('unsubscribed');
  });

  it('with no valid token nothing happens, and the outcome says why', async () => {
    const sub = await activeSubscriber(h);
    const token = sub.unsubscribeUrl.split('/').pop()!;
    const tampered = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
    // A preferences token is signed for another purpose.
    const cases = [
      unsubscribeMail({ to: UNSUBSCRIBE, subject: 'unsubscribe' }),
      unsubscribeMail({ to: UNSUBSCRIBE, subject: `unsubscribe ${tampered}` }),
      unsubscribeMail({ to: UNSUBSCRIBE, subject: `unsubscribe ${sub.preferencesToken}` }),
    ];
    for (const raw of cases)
      expect(await receive(raw, UNSUBSCRIBE)).toEqual({ status: 'dropped', route: 'unsubscribe', reason: 'no_token' });
    const old = signLinkToken(TEST_SECRET, 'unsubscribe', sub.id, new Date(h.clock.now().getTime() - 500 * 86_400_000));
    expect(await receive(unsubscribeMail({ to: UNSUBSCRIBE, subject: `unsubscribe ${old}` }), UNSUBSCRIBE)).toEqual({
      status: 'dropped',
      route: 'unsubscribe',
      reason: 'token_expired',
    });
    expect(await statusOf(sub.id)).toBe('active');
  });

  it('refuses other addresses and oversized mail, and drops junk, without throwing', async () => {
    expect(await receive(plainMail({ to: 'updates@quire.test' }), 'updates@quire.test')).toEqual({
      status: 'rejected',
      route: null,
      reason: 'unknown_recipient',
    });
    expect(await receive(largeMail(UNSUBSCRIBE, MAX), UNSUBSCRIBE)).toEqual({
      status: 'rejected',
      route: null,
      reason: 'too_large',
    });
    const verp = verpAddress(BOUNCES, randomUUID());
    const junk = [
      randomBytes(4096),
      new Uint8Array(0),
      '\u0000\u0001 not a message',
      'Content-Type: multipart/report; boundary="x"\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\u0000Status: 5.1.1\r\n',
    ];
    for (const raw of junk) {
      const outcome = await receive(raw, verp);
      expect(outcome.status, String(raw).slice(0, 20)).not.toBe('rejected');
      expect(await receive(raw, UNSUBSCRIBE)).toEqual({ status: 'dropped', route: 'unsubscribe', reason: 'no_token' });
    }
    // An out-of-office reply to the return path (RFC 3834) is no bounce.
    expect(await receive(plainMail({ to: verp, subject: 'Out of office' }), verp)).toEqual({
      status: 'dropped',
      route: 'bounce',
      reason: 'not_a_report',
    });
  });
});

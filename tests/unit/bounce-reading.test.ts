import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBounce } from '../../src/core/bounce-reading/index.js';
import type { BounceType } from '../../src/db/schema.js';

/**
 * Every bounce fixture, by MTA family, with the recipient and the class it must read. The fixtures are
 * written after what each family is documented or publicly seen to send; tests/fixtures/bounces/negatives
 * holds what must never be read as a bounce (bounce-reading-negatives.test.ts).
 */
const root = new URL('../fixtures/bounces/', import.meta.url);
const read = (path: string) => readBounce(readFileSync(new URL(path, root)));

type Expected = [file: string, email: string, type: BounceType];

const FAMILIES: Record<string, Expected[]> = {
  qmail: [
    ['user-unknown.eml', 'margot.reader@example.org', 'hard'],
    ['no-mailbox-local.eml', 'old.friend@example.net', 'hard'],
    ['over-quota.eml', 'full.box@example.net', 'soft'],
    ['blocklisted.eml', 'reader.two@example.org', 'soft'],
  ],
  exim: [
    ['user-unknown.eml', 'lena.park@example.org', 'hard'],
    ['two-recipients.eml', 'gone@example.net', 'hard'],
    ['two-recipients.eml', 'crowded@example.net', 'soft'],
    ['local-part-only.eml', 'sam@example.org', 'hard'],
    ['retry-timeout.eml', 'slow.host@example.net', 'soft'],
    ['delay-warning.eml', 'patient@example.org', 'soft'],
    ['sender-rejected.eml', 'picky@example.org', 'soft'],
    ['ionos-size-limit.eml', 'big.attachments@example.de', 'soft'],
  ],
  opensmtpd: [
    ['user-unknown.eml', 'nobody.here@example.org', 'hard'],
    ['delayed.eml', 'later@example.org', 'soft'],
  ],
  courier: [
    ['undeliverable.eml', 'ex.student@example.edu', 'hard'],
    ['delayed.eml', 'offline@example.edu', 'soft'],
  ],
  exchange: [
    ['exchange2003-unknown.eml', 'dana.whitfield@corp.example.com', 'hard'],
    ['o365-recipient-not-found.eml', 'pat.lee@contoso.example', 'hard'],
    ['o365-edge-blocking.eml', 'no.one@tenant.example', 'hard'],
    ['size-limit.eml', 'chris.moreau@corp.example.com', 'soft'],
    ['delayed.eml', 'alex.vance@corp.example.com', 'soft'],
  ],
  gmail: [
    ['legacy-permanent.eml', 'typo.reader@example.fr', 'hard'],
    ['address-not-found.eml', 'nicole.v@example.de', 'hard'],
    ['message-blocked.eml', 'jo.reader@gmail.example', 'soft'],
    ['delivery-incomplete.eml', 'waiting@example.net', 'soft'],
    ['inbox-full.eml', 'hoarder@gmail.example', 'soft'],
  ],
  'yahoo-aol': [
    ['yahoo-no-account.eml', 'vanished@yahoo.example', 'hard'],
    ['yahoo-deferred.eml', 'busy.reader@yahoo.example', 'soft'],
    ['aol-sendmail.eml', 'closed.account@aol.example', 'hard'],
  ],
  amazon: [
    ['ses-undeliverable.eml', 'wrong.domain@example.net', 'hard'],
    ['ses-suppressed.eml', 'bounced.before@example.org', 'hard'],
    ['workmail-technical-report.eml', 'former.staff@example.org', 'hard'],
  ],
  gateways: [
    ['barracuda-blocked.eml', 'cautious@example.org', 'soft'],
    ['messagelabs-relay.eml', 'partner@example.com', 'soft'],
    ['mimecast-invalid-recipient.eml', 'left.company@example.co.uk', 'hard'],
    ['proofpoint-blocked.eml', 'buyer@example.com', 'soft'],
    ['mcafee-unknown.eml', 'kenji@example.jp', 'hard'],
    ['interscan-unknown.eml', 'misspelt@example.net', 'hard'],
    ['mailmarshal-unknown.eml', 'moved.on@example.org', 'hard'],
  ],
  'sendmail-postfix': [
    ['sendmail-prose-unknown.eml', 'hiro@example.jp', 'hard'],
    ['sendmail-warning.eml', 'unreachable@example.jp', 'soft'],
    ['postfix-prose-host-not-found.eml', 'typo@examplle.com', 'hard'],
    ['postfix-warning.eml', 'slow@example.org', 'soft'],
    // RFC 3463 says 5.1.1, the words say blocklist: not a dead mailbox.
    ['dsn-5.1.1-blocked.eml', 'careful@example.org', 'soft'],
    // RFC 3463 says only 5.0.0, the words say the user is unknown.
    ['dsn-5.0.0-user-unknown.eml', 'left@example.org', 'hard'],
    ['dsn-cr-line-endings.eml', 'mac.user@example.org', 'hard'],
    ['dsn-broken-boundary.eml', 'lost.boundary@example.org', 'hard'],
  ],
  domino: [['not-listed.eml', 'rowan.hale@notes.example.com', 'hard']],
  others: [
    ['imail-unknown.eml', 'quill@imail.example.org', 'hard'],
    ['james-invalid-user.eml', '5550100@gateway.example.net', 'hard'],
    ['dragonfly-dmarc.eml', 'strict@gmail.example', 'soft'],
    ['zoho-unknown.eml', 'priya@example.in', 'hard'],
    ['groupwise-user-not-found.eml', 'teacher@example.k12.us', 'hard'],
  ],
  complaints: [
    ['arf-abuse.eml', 'annoyed@example.net', 'complaint'],
    ['hotmail-non-arf.eml', 'grumpy@hotmail.example', 'complaint'],
  ],
};

describe.each(Object.entries(FAMILIES))('reading %s bounces', (family, cases) => {
  it.each(cases)('%s: %s is %s', async (file, email, type) => {
    const reading = await read(`${family}/${file}`);
    expect(reading.kind).toBe(type === 'complaint' ? 'arf' : 'dsn');
    const report = reading.reports.find((r) => r.email?.toLowerCase() === email);
    expect(report, JSON.stringify(reading.reports)).toBeDefined();
    expect(report?.type).toBe(type);
    expect(report?.diagnostic).toBeTruthy();
  });

  it('has a case for every fixture of the family', () => {
    const files = readdirSync(new URL(`${family}/`, root)).filter((f) => f.endsWith('.eml'));
    expect(new Set(cases.map(([f]) => f))).toEqual(new Set(files));
  });
});

describe('the fixture set', () => {
  it('is recognised, recipient and class alike, and says how much of it', async ({ annotate }) => {
    let total = 0;
    let recognised = 0;
    let right = 0;
    for (const [family, cases] of Object.entries(FAMILIES)) {
      for (const [file, email, type] of cases) {
        total++;
        const { reports } = await read(`${family}/${file}`);
        if (reports.length > 0) recognised++;
        if (reports.some((r) => r.email?.toLowerCase() === email && r.type === type)) right++;
      }
    }
    const share = (n: number) => `${Math.round((1000 * n) / total) / 10}%`;
    const summary = `bounce fixtures: ${total} cases, ${share(recognised)} recognised, ${share(right)} with the right recipient and class`;
    console.info(summary);
    await annotate(summary);
    expect(recognised).toBe(total);
    expect(right).toBe(total);
  });

  it('keeps the report about a message that names itself to that one delivery, at its worst', async () => {
    const raw = readFileSync(new URL('exim/two-recipients.eml', root), 'utf8').replace(
      'Subject: Launch day',
      'Subject: Launch day\nMessage-ID: <launch@news.example.com>',
    );
    const { reports } = await readBounce(raw);
    expect(reports).toEqual([
      expect.objectContaining({ type: 'hard', email: 'gone@example.net', messageId: '<launch@news.example.com>' }),
    ]);
  });

  it('reads the original Message-ID out of a prose bounce to name the delivery', async () => {
    const { reports } = await read('qmail/user-unknown.eml');
    expect(reports).toEqual([
      expect.objectContaining({
        messageId: '<7d1c0e2a.qmail@news.example.com>',
        email: 'margot.reader@example.org',
        type: 'hard',
      }),
    ]);
  });
});

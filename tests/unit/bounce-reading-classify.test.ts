import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/core/bounce-reading/classify.js';

/**
 * Hard, soft or nothing from what the remote server said (its words and known codes), with the RFC 3463
 * status only when the words say nothing more.
 */
describe('classifying a failure by its diagnostic', () => {
  it.each([
    // A dead mailbox or domain, whatever the status code claims.
    ['5.0.0', '550 <a@example.org>... User unknown', 'hard'],
    ['5.0.0', '550 5.1.1 No such user here', 'hard'],
    ['5.0.0', '550 Requested action not taken: mailbox not found', 'hard'],
    ['5.0.0', '550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in relay recipient table', 'hard'],
    ['5.0.0', '554 delivery error: dd This user does not exist', 'hard'],
    ['5.7.1', '553 Invalid recipient a@example.org (Mode: normal)', 'hard'],
    ['5.4.1', '550 5.4.1 Recipient address rejected: Access denied. AS(201806281)', 'hard'],
    [undefined, '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', 'hard'],
    [
      undefined,
      'Host or domain name not found. Name service error for name=examplle.com type=MX: Host not found',
      'hard',
    ],
    ['5.0.0', '550 <a@example.org> is not a known user on this system', 'hard'],
    // Blocklists, spam filters, policy and our own sending: soft, even under 5.1.1.
    ['5.1.1', '550 5.1.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org', 'soft'],
    ['5.1.1', '550 5.1.1 IP 192.0.2.1 is blacklisted', 'soft'],
    ['5.7.1', '550 5.7.1 Message rejected as spam by Content Filtering', 'soft'],
    ['5.7.26', '550 5.7.26 Unauthenticated email is not accepted due to domain\u2019s DMARC policy', 'soft'],
    ['5.0.0', '550 Sender address rejected: Domain not found', 'soft'],
    ['5.7.1', '554 5.7.1 <a@example.org>: Relay access denied', 'soft'],
    [
      undefined,
      'SMTP error from remote mail server after MAIL FROM:<us@example.com>: 550 Unroutable sender address',
      'soft',
    ],
    [undefined, 'after MAIL FROM:<us@example.com>: 550 5.1.7 No such domain example.com.', 'soft'],
    [undefined, '550 5.7.1 Unfortunately, messages from [192.0.2.1] weren\u2019t sent. (S3150)', 'soft'],
    // Full mailboxes, delays, timeouts: soft.
    ['5.2.2', '552 5.2.2 Mailbox full', 'soft'],
    ['5.0.0', '550 5.2.2 <a@example.org>... Mailbox Full; Unknown address error', 'soft'],
    ['5.0.0', 'user is over quota', 'soft'],
    ['4.4.1', 'connect to mx.example.org[192.0.2.44]:25: Connection timed out', 'soft'],
    [undefined, 'retry timeout exceeded', 'soft'],
    [undefined, '421 4.7.0 [TSS04] Messages temporarily deferred', 'soft'],
    // A disabled account may come back: soft.
    ['5.2.1', '550 5.2.1 The email account that you tried to reach is disabled', 'soft'],
    // Host names and links that happen to contain policy words say nothing.
    ['5.1.1', 'host spamfilter.example.net[192.0.2.9] said: 550 5.1.1 <a@example.org>: User unknown', 'hard'],
    // Nothing in the words: the status code decides (RFC 3463).
    ['5.1.1', 'smtp; 550 5.1.1', 'hard'],
    ['5.3.0', 'smtp; 554 5.3.0 Other mail system problem', 'soft'],
  ] as const)('%s "%s" is %s', (status, diagnostic, expected) => {
    expect(classifyFailure({ action: 'failed', status, diagnostic })).toBe(expected);
  });

  it('reads successes as nothing, delays as soft whatever they quote, and a family hint as given', () => {
    expect(classifyFailure({ action: 'delivered', status: '2.0.0', diagnostic: '250 ok' })).toBeNull();
    expect(classifyFailure({ action: 'relayed', diagnostic: '' })).toBeNull();
    expect(classifyFailure({ action: 'delayed', status: '4.2.2', diagnostic: 'user unknown' })).toBe('soft');
    expect(classifyFailure({ diagnostic: '550 user unknown', hint: 'soft' })).toBe('soft');
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBounce } from '../../src/core/bounce-reading/index.js';

/**
 * Mail that reaches the bounce address but is no bounce: auto-replies (RFC 3834), delivery success
 * reports (RFC 3464 Action delivered/relayed/expanded), DMARC reports (RFC 7489 aggregate, RFC 6591
 * failure reports), read receipts (RFC 8098), challenge-response notices, newsletters and replies. None
 * may give a report to record.
 */
const dir = new URL('../fixtures/bounces/negatives/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.eml'));

describe('what is never a bounce', () => {
  it.each(files)('%s gives nothing to record', async (file) => {
    const reading = await readBounce(readFileSync(new URL(file, dir)));
    expect(reading.reports).toEqual([]);
  });

  it('says a success report is a DSN all the same, and an auto-reply is no report at all', async () => {
    expect((await readBounce(readFileSync(new URL('success-delivered.eml', dir)))).kind).toBe('dsn');
    expect((await readBounce(readFileSync(new URL('out-of-office.eml', dir)))).kind).toBeNull();
    expect((await readBounce(readFileSync(new URL('arf-auth-failure.eml', dir)))).kind).toBe('arf');
  });

  it('does not take a bounce-like subject from a person for a bounce', async () => {
    const raw = [
      'From: Sam Editor <sam@example.org>',
      'To: author@news.example.com',
      'Subject: Undeliverable: your chapter?',
      '',
      'Your chapter could not be delivered to my old address old@example.org, it was rejected. Use this one.',
      '',
    ].join('\n');
    expect((await readBounce(raw)).reports).toEqual([]);
  });
});

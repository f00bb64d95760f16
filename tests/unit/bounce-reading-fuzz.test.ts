import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readBounce } from '../../src/core/bounce-reading/index.js';

/**
 * Bounces come from anyone: the reader must neither throw nor hang on any input. Random bytes, and the
 * fixtures cut short, spliced, with their line endings changed or their bytes flipped.
 */
const root = new URL('../fixtures/bounces/', import.meta.url);
const fixtures = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(new URL(`${d.name}/`, root)).map((f) => readFileSync(new URL(`${d.name}/${f}`, root), 'latin1')),
  );

async function readsCalmly(raw: string | Buffer) {
  // A hang (catastrophic backtracking, a loop that never ends) runs the test into its timeout; speed is
  // not asserted here — a loaded machine would make that flaky, and benchmarks measure speed.
  const reading = await readBounce(raw);
  expect(['dsn', 'arf', null]).toContain(reading.kind);
  for (const r of reading.reports) expect(['hard', 'soft', 'complaint']).toContain(r.type);
}

const garbled = fc
  .record({
    fixture: fc.constantFrom(...fixtures),
    cut: fc.nat(),
    splice: fc.string({ maxLength: 200 }),
    endings: fc.constantFrom('\n', '\r', '\r\n', '\n\r'),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
  })
  .map(({ fixture, cut, splice, endings, flips }) => {
    const at = cut % (fixture.length + 1);
    const bytes = Buffer.from(
      `${fixture.slice(0, at)}${splice}${fixture.slice(at, at + cut)}`.replace(/\r?\n/g, endings),
      'latin1',
    );
    for (const [i, v] of flips) if (bytes.length) bytes[i % bytes.length] = v;
    return bytes;
  });

describe('reading any input', () => {
  it('never throws or hangs on random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), (bytes) => readsCalmly(Buffer.from(bytes))),
      { numRuns: 150 },
    );
  });

  it('never throws or hangs on random text shaped like mail', async () => {
    const header = fc.constantFrom(
      'From: MAILER-DAEMON@x.example\n',
      'Subject: Undelivered Mail\n',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n',
      'X-Failed-Recipients: a@b.example\n',
      '\n',
      '--b\n',
      'Content-Type: message/delivery-status\n',
      'Final-Recipient: rfc822; x@y.example\n',
      'Action: failed\n',
      'Status: 5.1.1\n',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(header, fc.string({ maxLength: 80 })), { maxLength: 60 }), (parts) =>
        readsCalmly(parts.join('')),
      ),
      { numRuns: 150 },
    );
  });

  it('never throws or hangs on truncated, spliced or garbled fixtures', async () => {
    await fc.assert(fc.asyncProperty(garbled, readsCalmly), { numRuns: 200 });
  });

  it('reads long lines and deep repetition in a moment (no catastrophic backtracking)', async () => {
    const long = `From: MAILER-DAEMON@x.example\nSubject: failure notice\n\nHi. This is the qmail-send program at x.\n<${'a'.repeat(50_000)}@${'b.'.repeat(20_000)}example>:\n${'550 '.repeat(20_000)}\n`;
    await readsCalmly(long);
    const spaces = `From: postmaster@x.example\nSubject: Undeliverable\n\n${' '.repeat(100_000)}user unknown${'\t'.repeat(50_000)}x@y.example\n`;
    await readsCalmly(spaces);
    const dots = `From: MAILER-DAEMON@x.example\nSubject: Returned mail\n\n${'a...'.repeat(30_000)}\n${'<'.repeat(30_000)}\n`;
    await readsCalmly(dots);
  });
});

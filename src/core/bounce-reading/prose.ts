import { addressesIn, cleanAddress } from './fields.js';
import type { MailView } from './message.js';
import type { ProseFailure } from './types.js';

/**
 * Helpers for reports written as prose: which addresses are the reporter's or ours (never the failed
 * recipient), the stretch of text between two markers, and the common "<address>: reason" layout that
 * qmail, Postfix, OpenSMTPD, Courier, Exim and many others share.
 */

/** Addresses that are never the failed recipient: the report's own sender and addressee, daemons, our From. */
export function ownAddresses(mail: MailView): Set<string> {
  const own = new Set<string>();
  for (const name of ['from', 'to', 'return-path', 'reply-to', 'sender']) {
    for (const a of addressesIn(mail.header(name))) own.add(a.toLowerCase());
  }
  for (const name of ['from', 'return-path', 'sender', 'reply-to'])
    for (const a of addressesIn(mail.original?.get(name))) own.add(a.toLowerCase());
  return own;
}

const DAEMON_LOCAL =
  /^(?:mailer-daemon|postmaster|post_master|mail-daemon|mdaemon|root|abuse|noreply-dsn|double-bounce)@/i;

/** Addresses in a text that may be a failed recipient, in order. */
export function candidates(text: string, own: Set<string>): string[] {
  return addressesIn(text).filter(
    (a) => !own.has(a.toLowerCase()) && !DAEMON_LOCAL.test(a) && !/\.(?:png|jpe?g|gif)$/i.test(a),
  );
}

/** The text after the first match of `start` (or all of it), up to the first match of `end`. */
export function between(text: string, start: RegExp | undefined, end?: RegExp): string | undefined {
  let from = 0;
  if (start) {
    const m = start.exec(text);
    if (!m) return undefined;
    from = m.index + m[0].length;
  }
  const rest = text.slice(from);
  const stop = end ? rest.search(end) : -1;
  return stop === -1 ? rest : rest.slice(0, stop);
}

const ADDRESS_LINE =
  /^[ \t]*(?:[>*-]+[ \t]*)?(?:(?:(?:final-|original-)?recipient(?: address)?|failed (?:recipient|address)|address(?:ee)?|user|error-for)[ \t]*:[ \t]*)?["'<(]?([^\s<>"'():,;]+@[^\s<>"'():,;]+?)[>"')]?(?:[ \t]*<[^>]*>)?[ \t]*(?::|\.\.\.|,|\s+on\s|[ \t]+(?=\()|$)(.*)$/i;

/**
 * `<address>: reason` blocks: a line that starts with an address opens one, the lines after it (up to the
 * next address line, or a blank line once there is text) are its reason.
 */
export function addressBlocks(text: string, own: Set<string> = new Set()): ProseFailure[] {
  const found: ProseFailure[] = [];
  let current: { email: string; lines: string[] } | undefined;
  const close = () => {
    if (current) found.push({ email: current.email, diagnostic: current.lines.join(' ').replace(/\s+/g, ' ').trim() });
    current = undefined;
  };
  for (const line of text.split('\n')) {
    const m = ADDRESS_LINE.exec(line);
    const email = m ? cleanAddress(m[1]!) : undefined;
    if (m && email && !own.has(email.toLowerCase()) && !DAEMON_LOCAL.test(email)) {
      close();
      current = { email, lines: [m[2]!.trim()] };
    } else if (current) {
      if (line.trim() === '') {
        if (current.lines.some((l) => l.trim())) close();
      } else current.lines.push(line.trim());
    }
  }
  close();
  return found;
}

/** The paragraph of `text` that mentions `email`, and the next one when it is a continuation. */
export function paragraphAbout(text: string, email: string): string {
  const paragraphs = text.split(/\n[ \t]*\n/);
  const i = paragraphs.findIndex((p) => p.toLowerCase().includes(email.toLowerCase()));
  if (i === -1) return '';
  return [paragraphs[i], paragraphs[i + 1] ?? ''].join('\n').replace(/\s+/g, ' ').trim();
}

/** The SMTP reply (or the status code) lines of a text, joined: what the remote server said. */
export function smtpReply(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => /(?:^|[\s:'"(])[45]\d\d(?:[\s-]|$)|[45]\.\d{1,3}\.\d{1,3}/.test(l));
  return lines.length ? lines.map((l) => l.trim()).join(' ') : undefined;
}

/** One failure per address, the first reason found for each. */
export function unique(failures: ProseFailure[]): ProseFailure[] {
  const seen = new Map<string, ProseFailure>();
  for (const f of failures) {
    const key = f.email?.toLowerCase() ?? '';
    const prior = seen.get(key);
    if (!prior) seen.set(key, f);
    else if (!prior.diagnostic && f.diagnostic) seen.set(key, { ...prior, diagnostic: f.diagnostic });
  }
  return [...seen.values()];
}

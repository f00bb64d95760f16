import { classifyFailure } from './classify.js';
import { addressOf, type FieldBlock, parseFieldBlocks, statusCode } from './fields.js';
import type { Failure } from './types.js';

/**
 * RFC 3464 delivery-status fields: one block of per-message fields, then one block per recipient
 * (§2.2, §2.3). Real reports bend this: fields in the wrong block, no blank line between recipients,
 * the fields pasted into the text part (Amazon WorkMail) or left there by a MIME structure that broke.
 */
export interface StatusReading {
  perMessage: FieldBlock;
  failures: Failure[];
  /** Recipient blocks that reported success (delivered, relayed, expanded): a report, with nothing to record. */
  successes: number;
}

const RECIPIENT_FIELDS = ['final-recipient', 'original-recipient', 'x-actual-recipient', 'action', 'status'];

export function readStatusFields(
  body: string,
  contextFor: (email: string | undefined) => string = () => '',
): StatusReading {
  const blocks = parseFieldBlocks(splitRecipients(body));
  const isRecipient = (b: FieldBlock) =>
    RECIPIENT_FIELDS.some((f) => b.has(f)) &&
    (b.has('final-recipient') || b.has('original-recipient') || b.has('action') || b.has('x-actual-recipient'));
  const perMessage = blocks.find((b) => !isRecipient(b)) ?? new Map<string, string>();
  const failures: Failure[] = [];
  let successes = 0;
  for (const block of blocks.filter(isRecipient)) {
    const action = block
      .get('action')
      ?.toLowerCase()
      .split(/[\s(;]/)[0];
    const diagnosticCode = block.get('diagnostic-code');
    const status = statusCode(block.get('status')) ?? statusCode(diagnosticCode);
    const email =
      addressOf(block.get('final-recipient')) ??
      addressOf(block.get('original-recipient')) ??
      addressOf(block.get('x-actual-recipient'));
    if (action === 'delivered' || action === 'relayed' || action === 'expanded') {
      successes++;
      continue;
    }
    // Without an action or a 4/5 status the block says nothing about failure (RFC 3464 §2.3.3).
    if (!action && !status && !diagnosticCode) continue;
    if (!action && !/^[45]/.test(status ?? '')) continue;
    const type = classifyFailure({
      action: action ?? 'failed',
      status,
      diagnostic: diagnosticCode ?? contextFor(email),
    });
    if (!type) continue;
    failures.push({ type, email, diagnostic: diagnosticCode ?? `${action ?? 'failed'} ${status ?? '(no status)'}` });
  }
  return { perMessage, failures, successes };
}

/** A recipient block that runs into the next one (a second Final-Recipient with no blank line) is two. */
function splitRecipients(body: string): string {
  const out: string[] = [];
  let seen = false;
  for (const line of body.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') seen = false;
    else if (/^(?:final|original)-recipient[ \t]*:/i.test(line)) {
      const isFinal = /^final/i.test(line);
      if (seen && (isFinal || !/^final/i.test(out.at(-1) ?? ''))) {
        out.push('');
        seen = false;
      }
      if (isFinal) seen = true;
    }
    out.push(line);
  }
  return out.join('\n');
}

/** Delivery-status fields pasted into a text part: the lines from the first Final-Recipient/Reporting-MTA on. */
export function embeddedStatusFields(text: string): string | undefined {
  const start = text.search(/^(?:reporting-mta|final-recipient|original-recipient)[ \t]*:/im);
  if (start === -1) return undefined;
  const fields = text.slice(start);
  return /^final-recipient[ \t]*:/im.test(fields) && /^(?:action|status)[ \t]*:/im.test(fields) ? fields : undefined;
}

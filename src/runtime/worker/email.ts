import { ConfigError } from '../../config.js';
import { describeInbound, type InboundOutcome, receiveInbound, screenInbound } from '../../core/inbound.js';
import { errorFields } from '../../log.js';
import type { Env } from './env.js';
import { type Runtime, runtimeFor } from './runtime.js';
import { openScope } from './scope.js';
import { seal } from './tasks.js';

/**
 * Email Routing delivers here the mail sent to the unsubscribe address and to the VERP bounce addresses
 * (README "Mail that comes back"); src/core/inbound.ts decides. Refusals happen during the SMTP session
 * (setReject), so they bounce from the sending server rather than from us: no backscatter.
 *
 * A Worker has no temporary failure to give: setReject is permanent, and a thrown error is answered with
 * a permanent "521 Upstream error" too. When the database cannot be reached, the message is rejected with
 * a reason that says so, so a person who wrote to unsubscribe learns it did not happen and why.
 */
const TRY_LATER =
  'Temporarily unable to process this message; nothing was changed. Please try again later, or use the unsubscribe link in the newsletter.';

export async function emailHandler(message: ForwardableEmailMessage, env: Env, ctx: ExecutionContext): Promise<void> {
  let rt: Runtime;
  try {
    rt = runtimeFor(env);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `quire failed to start: ${(err as Error).message}`);
    message.setReject(TRY_LATER);
    return;
  }
  // Refused before anything is read or a connection opened: not ours, or over INBOUND_MAX_BYTES.
  const screened = screenInbound(rt.config, message.to, message.rawSize);
  if (screened) return settle(rt, message, screened);

  let outcome: InboundOutcome;
  try {
    const raw = await readAtMost(message.raw, rt.config.INBOUND_MAX_BYTES);
    if (!raw) return settle(rt, message, { status: 'rejected', route: null, reason: 'too_large' });
    const scope = await openScope(rt, env, 'request');
    try {
      outcome = await receiveInbound(scope.services, { raw, to: message.to });
      // An opt-out wrote a ledger event: seal it now, as a state-changing request does.
      if (outcome.status === 'done' && outcome.route === 'unsubscribe') await seal(scope.services, rt.log, 'email');
    } finally {
      ctx.waitUntil(scope.close());
    }
  } catch (err) {
    rt.log.error('inbound mail failed', errorFields(err));
    message.setReject(TRY_LATER);
    return;
  }
  settle(rt, message, outcome);
}

/** Log the outcome (its fields name no person) and reject what is not ours; dropped mail is accepted. */
function settle(rt: Runtime, message: ForwardableEmailMessage, outcome: InboundOutcome): void {
  rt.log.info('inbound mail', { ...outcome });
  if (outcome.status === 'rejected') message.setReject(describeInbound(outcome, rt.config));
}

/** The stream's bytes, or undefined past `max` (rawSize is checked first; this is the hard cut). */
async function readAtMost(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | undefined> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const raw = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    raw.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return raw;
}

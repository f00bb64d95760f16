import type { BroadcastContext, RecipientSlots } from '../../emails/_components/broadcast-context.js';
import type { TemplateDefinition } from '../../emails/index.js';
import { escapeHtml } from './escape-html.js';
import { type RenderedEmail, renderEmail } from './render.js';

/**
 * Render once, personalise by substitution. React rendering costs milliseconds per message; a
 * broadcast is rendered once with placeholder tokens in the recipient slots, and each recipient's
 * message is made by replacing the tokens — HTML-escaped exactly as React escapes text and attribute
 * values in the HTML part, verbatim in the text part. Tests prove the result equals a full
 * per-recipient render.
 */

const SLOTS: Record<keyof RecipientSlots, string> = {
  greeting: 'QUIREzGREETINGz7Q',
  unsubscribeUrl: 'QUIREzUNSUBSCRIBEzURLz7Q',
  preferencesUrl: 'QUIREzPREFERENCESzURLz7Q',
};

export interface RenderedOnce {
  html: string[];
  htmlSlots: (keyof RecipientSlots)[];
  text: string[];
  textSlots: (keyof RecipientSlots)[];
}

export { escapeHtml };

const slotPattern = new RegExp(Object.values(SLOTS).join('|'), 'g');
const slotByToken = new Map(Object.entries(SLOTS).map(([k, v]) => [v, k as keyof RecipientSlots]));

/** Split once at the placeholders, so each message is a join, not a search. */
function split(rendered: string): { parts: string[]; slots: (keyof RecipientSlots)[] } {
  const parts: string[] = [];
  const slots: (keyof RecipientSlots)[] = [];
  let last = 0;
  for (const m of rendered.matchAll(slotPattern)) {
    parts.push(rendered.slice(last, m.index));
    slots.push(slotByToken.get(m[0])!);
    last = m.index + m[0].length;
  }
  parts.push(rendered.slice(last));
  return { parts, slots };
}

export async function renderOnce(
  template: TemplateDefinition,
  props: Record<string, unknown>,
  ctx: Omit<BroadcastContext, 'recipient'>,
): Promise<RenderedOnce> {
  const rendered = await renderEmail(template.element(props, { ...ctx, recipient: { ...SLOTS } }));
  const html = split(rendered.html);
  const text = split(rendered.text);
  for (const slot of ['unsubscribeUrl'] as const) {
    // Every message must carry its unsubscribe link (CAN-SPAM, RFC 8058's visible counterpart).
    if (!html.slots.includes(slot) || !text.slots.includes(slot))
      throw new Error(`template ${template.name} lost the ${slot} slot`);
  }
  return { html: html.parts, htmlSlots: html.slots, text: text.parts, textSlots: text.slots };
}

function join(
  parts: string[],
  slots: (keyof RecipientSlots)[],
  values: RecipientSlots,
  encode: (v: string) => string,
): string {
  let out = parts[0]!;
  for (let i = 0; i < slots.length; i++) out += encode(values[slots[i]!]) + parts[i + 1]!;
  return out;
}

export function personalise(once: RenderedOnce, values: RecipientSlots): RenderedEmail {
  return {
    html: join(once.html, once.htmlSlots, values, escapeHtml),
    text: join(once.text, once.textSlots, values, (v) => v),
  };
}

/** The constant parts as UTF-8, once per rendered broadcast. */
const encodedParts = new WeakMap<RenderedOnce, { html: Buffer[]; text: Buffer[] }>();
/** Where a message's body is put together as bytes: one buffer, reused (nothing awaits in between). */
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

function base64Of(
  parts: Buffer[],
  slots: (keyof RecipientSlots)[],
  values: RecipientSlots,
  encode: (v: string) => string,
) {
  const encoded = slots.map((slot) => encode(values[slot]));
  let size = parts.reduce((n, p) => n + p.length, 0);
  for (const v of encoded) size += Buffer.byteLength(v, 'utf8');
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(size * 2);
  let at = parts[0]!.copy(scratch, 0);
  for (let i = 0; i < encoded.length; i++) {
    at += scratch.write(encoded[i]!, at, 'utf8');
    at += parts[i + 1]!.copy(scratch, at);
  }
  return { base64: scratch.toString('base64', 0, at) };
}

/**
 * `personalise` for MIME, as base64: only the recipient's values are encoded per message, and the bytes
 * are put together in a buffer that is reused. Encoding the whole HTML as UTF-8 for every message cost
 * more than everything else the substitution does.
 */
export function personalisedBase64(
  once: RenderedOnce,
  values: RecipientSlots,
): { html: { base64: string }; text: { base64: string } } {
  let parts = encodedParts.get(once);
  if (!parts) {
    parts = {
      html: once.html.map((p) => Buffer.from(p, 'utf8')),
      text: once.text.map((p) => Buffer.from(p, 'utf8')),
    };
    encodedParts.set(once, parts);
  }
  return {
    html: base64Of(parts.html, once.htmlSlots, values, escapeHtml),
    text: base64Of(parts.text, once.textSlots, values, (v) => v),
  };
}

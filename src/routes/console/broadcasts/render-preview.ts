import type { Context } from 'hono';
import { previewContext } from '../../../../emails/_components/broadcast-context.js';
import { broadcastTemplate } from '../../../core/broadcasts.js';
import { escapeHtml, personalise, renderOnce } from '../../../mail/personalise.js';
import type { RenderedEmail } from '../../../mail/render.js';
import type { Services } from '../../../services.js';
import { EMAIL_CSP, setCsp } from '../../csp.js';

/**
 * A broadcast as its recipients will get it: rendered once with the placeholders, as the sending engine
 * renders it, then filled with a sample reader's values — so the preview is the real message, not a
 * second rendering path.
 */
export async function renderBroadcastPreview(
  s: Services,
  b: { template: string; preheader: string; props: Record<string, unknown> },
): Promise<RenderedEmail> {
  const once = await renderOnce(broadcastTemplate(b.template), b.props, {
    preheader: b.preheader,
    lang: 'en',
    bookTitle: s.config.BOOK_TITLE,
    postalAddress: s.config.POSTAL_ADDRESS,
  });
  return personalise(once, previewContext.recipient);
}

export const previewFormats = ['html', 'text'] as const;
export type PreviewFormat = (typeof previewFormats)[number];

/**
 * The answer a preview frame loads: the email's HTML under the email policy (inline styles, remote
 * images, no script, a sandbox of its own), or its text part as plain text.
 */
export function previewResponse(c: Context, out: RenderedEmail, format: PreviewFormat): Response {
  setCsp(c, EMAIL_CSP);
  c.header('Cache-Control', 'no-store');
  if (format === 'text') return c.body(out.text, 200, { 'Content-Type': 'text/plain; charset=utf-8' });
  return c.html(out.html);
}

/** What a frame shows when the form cannot be rendered yet: what is missing, in plain words. */
export function previewProblems(c: Context, problems: { path: string; message: string }[]): Response {
  setCsp(c, EMAIL_CSP);
  c.header('Cache-Control', 'no-store');
  const items = problems.map((p) => `<li>${escapeHtml(p.message)}</li>`).join('');
  return c.html(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not ready to preview</title></head>` +
      `<body style="font:16px/1.5 system-ui,sans-serif;color:#1c1d21;margin:1rem">` +
      `<p><strong>Not ready to preview yet:</strong></p><ul>${items}</ul></body></html>`,
    422,
  );
}

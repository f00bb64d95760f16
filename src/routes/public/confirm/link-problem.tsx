/** @jsxImportSource hono/jsx */
import { AppError } from '../../../core/errors.js';
import { ConfirmLinkProblemPage } from '../../../pages/subscriber-pages.js';
import type { AppContext } from '../../env.js';

/** A browser with a broken or expired link gets an explanation and a way to a fresh one; scripts get the envelope. */
export function linkProblemPage(c: AppContext, err: unknown, html: boolean) {
  if (!html || !(err instanceof AppError)) throw err;
  const bookTitle = c.get('services').config.BOOK_TITLE;
  if (err.code === 'token_expired')
    return c.html(<ConfirmLinkProblemPage bookTitle={bookTitle} reason="expired" />, 410);
  if (err.code === 'invalid_token')
    return c.html(<ConfirmLinkProblemPage bookTitle={bookTitle} reason="invalid" />, 404);
  throw err;
}

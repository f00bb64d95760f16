import { AppError } from '../../core/errors.js';
import type { CaptureMailbox } from '../../mail/capture.js';
import type { AppContext } from '../env.js';

/** The captured mail exists only outside production, and only when mail is captured: otherwise a 404. */
export function devMailbox(c: AppContext): CaptureMailbox {
  const s = c.get('services');
  if (s.config.NODE_ENV === 'production' || !s.devMailbox) throw new AppError('not_found', 'Not found.');
  return s.devMailbox;
}

export async function capturedMail(c: AppContext) {
  const mail = await devMailbox(c).read(c.req.param('id') ?? '');
  if (!mail) throw new AppError('not_found', 'No such captured mail.');
  return mail;
}

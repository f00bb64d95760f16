import { z } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.js';

/** The one field of both forms. Anything but a single string is no address, which the core then refuses. */
export const LinkRequestForm = z.object({
  email: z
    .string()
    .catch('')
    .transform((v) => v.slice(0, 1000))
    .openapi({ type: 'string', example: 'reader@example.com' }),
});

export const isInvalidEmail = (err: unknown): err is AppError =>
  err instanceof AppError && err.code === 'invalid_email';

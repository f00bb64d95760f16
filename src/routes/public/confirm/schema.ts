import { z } from '@hono/zod-openapi';

export const ConfirmResult = z
  .object({ status: z.enum(['confirmed', 'already_confirmed']) })
  .openapi('ConfirmResult', { example: { status: 'confirmed' } });

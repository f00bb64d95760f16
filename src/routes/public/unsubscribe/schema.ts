import { z } from '@hono/zod-openapi';

export const UnsubscribeResult = z.object({ status: z.literal('unsubscribed') }).openapi('UnsubscribeResult');

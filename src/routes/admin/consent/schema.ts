import { z } from '@hono/zod-openapi';

export const ChainVerificationSchema = z
  .discriminatedUnion('ok', [
    z.object({
      ok: z.literal(true),
      events: z.number().int(),
      head: z.string().openapi({
        description: 'The last link: keep it outside the database to detect a rewrite of the whole chain.',
      }),
      pending: z.number().int().openapi({ description: 'Events written but not sealed yet.' }),
    }),
    z.object({
      ok: z.literal(false),
      events: z.number().int(),
      brokenAt: z.number().int().openapi({ description: 'The `seq` of the first event whose link does not hold.' }),
      reason: z.enum(['prev_hash_mismatch', 'details_mismatch', 'hash_mismatch']),
    }),
  ])
  .openapi('ConsentChainVerification', { example: { ok: true, events: 1284, head: '9f2c…', pending: 0 } });

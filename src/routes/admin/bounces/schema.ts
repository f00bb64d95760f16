import { z } from '@hono/zod-openapi';

export const BounceIngestResult = z
  .object({
    kind: z.enum(['dsn', 'arf']),
    reports: z.number().int(),
    suppressed: z.number().int(),
    unknown: z.number().int(),
  })
  .openapi('BounceIngestResult', { example: { kind: 'dsn', reports: 1, suppressed: 1, unknown: 0 } });

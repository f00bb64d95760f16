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

const Hash = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex');

export const CheckpointSchema = z
  .object({
    format: z.literal('quire-consent-checkpoint/1'),
    seq: z.number().int().min(0).openapi({ description: 'The chain position of `head`.' }),
    head: Hash,
    at: z.iso.datetime().openapi({ description: 'When it was signed.' }),
    from: z.number().int().min(0).openapi({ description: 'The position `links` start after; 0 is the start.' }),
    prev: Hash.openapi({ description: 'The hash at `from` (the genesis hash at 0).' }),
    links: z.array(Hash).openapi({ description: 'The hash at every position from `from + 1` to `seq`.' }),
    key: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a raw Ed25519 public key, base64url')
      .openapi({ description: 'The signing key’s public half (LEDGER_SIGNING_KEY), raw, base64url.' }),
    signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'must be an Ed25519 signature, base64url'),
  })
  .openapi('ConsentCheckpoint', {
    description:
      'The consent ledger’s chain as it stood, signed with a key the database never sees. Keep it outside the database.',
  });

export const CheckpointRequest = z
  .object({
    from: z.number().int().min(0).optional().openapi({
      description: 'Include the links after this position only (the `seq` of the last checkpoint you keep).',
    }),
  })
  .strict();

export const VerifyAgainstRequest = z
  .object({ checkpoints: z.array(CheckpointSchema).min(1).max(100_000) })
  .strict()
  .openapi('ConsentVerifyAgainst');

const CheckpointsUsed = z.object({
  checked: z.number().int().openapi({ description: 'Checkpoints relied on.' }),
  upTo: z.number().int().openapi({ description: 'The furthest chain position they vouch for.' }),
  ignored: z
    .array(
      z.object({
        checkpoint: z.number().int().openapi({ description: 'Its index in the request.' }),
        reason: z.enum(['malformed', 'unknown_key', 'invalid_signature']),
      }),
    )
    .openapi({ description: 'Checkpoints not signed by this server’s key as they stand: not relied on.' }),
});

export const CheckpointVerificationSchema = z
  .discriminatedUnion('ok', [
    z.object({
      ok: z.literal(true),
      events: z.number().int(),
      head: z.string(),
      pending: z.number().int(),
      checkpoints: CheckpointsUsed,
    }),
    z.object({
      ok: z.literal(false),
      events: z.number().int(),
      brokenAt: z
        .number()
        .int()
        .nullable()
        .openapi({ description: 'The `seq` of the first event that differs; null when its position is empty now.' }),
      chainSeq: z.number().int().openapi({ description: 'Its position in the chain.' }),
      reason: z.enum([
        'prev_hash_mismatch',
        'details_mismatch',
        'hash_mismatch',
        'differs_from_checkpoint',
        'missing_from_checkpoint',
      ]),
      checkpoint: z
        .object({
          index: z.number().int(),
          seq: z.number().int(),
          at: z.string(),
          expected: z.string(),
          found: z.string().nullable(),
        })
        .optional()
        .openapi({
          description: 'The checkpoint that recorded something else there, what it recorded, what is there now.',
        }),
      checkpoints: CheckpointsUsed,
    }),
  ])
  .openapi('ConsentCheckpointVerification');

import { eq } from 'drizzle-orm';
import { broadcasts, topics } from '../db/schema.js';
import { type Broadcast, type BroadcastInput, getBroadcastRow, validateProps } from './broadcasts.js';
import type { CoreDeps } from './deps.js';
import { AppError } from './errors.js';

/**
 * Change a draft as the author edits it. Only a draft changes: once scheduled or sending, what goes out
 * is what the author confirmed. The props are checked against the template like a new draft's.
 */
export async function updateDraft(deps: CoreDeps, id: string, input: BroadcastInput): Promise<Broadcast> {
  const props = validateProps(input.template, input.props);
  return deps.db.transaction(async (tx) => {
    const b = await getBroadcastRow(tx, id, true);
    if (b.status !== 'draft')
      throw new AppError('invalid_state', `The broadcast is ${b.status}; only a draft can be edited.`);
    const [topic] = await tx.select({ slug: topics.slug }).from(topics).where(eq(topics.slug, input.topic));
    if (!topic)
      throw new AppError('unknown_topic', `Unknown topic: ${input.topic}.`, {
        fields: [{ path: 'topic', message: 'unknown topic' }],
      });
    const [row] = await tx
      .update(broadcasts)
      .set({
        template: input.template,
        topic: input.topic,
        subject: input.subject,
        preheader: input.preheader ?? '',
        props,
        updatedAt: deps.now(),
      })
      .where(eq(broadcasts.id, id))
      .returning();
    return row!;
  });
}

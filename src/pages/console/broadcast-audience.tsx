/** @jsxImportSource hono/jsx */
import { formatNumber as fmt } from './format.js';

export interface Audience {
  audience: number;
  excluded: { pending?: number; unsubscribed?: number; suppressed?: number; notInTopic?: number };
}

const people = (n: number) => `${fmt(n)} ${n === 1 ? 'person' : 'people'}`;

/** "Goes to N people — not to N unsubscribed, N pending, N suppressed": the count, and who is left out. */
export function audienceSentence({ audience, excluded }: Audience): string {
  const not = [
    excluded.unsubscribed ? `${fmt(excluded.unsubscribed)} unsubscribed` : '',
    excluded.pending ? `${fmt(excluded.pending)} pending` : '',
    excluded.suppressed ? `${fmt(excluded.suppressed)} suppressed` : '',
    excluded.notInTopic ? `${fmt(excluded.notInTopic)} not in this topic` : '',
  ].filter(Boolean);
  return `Goes to ${people(audience)}${not.length ? ` — not to ${not.join(', ')}` : ''}.`;
}

export function AudienceLine({ audience }: { audience: Audience }) {
  return (
    <p class="audience" id="audience">
      <strong>{audienceSentence(audience)}</strong>
      <span class="muted small block">
        Pending: not confirmed yet. Suppressed: bounced, complained, or blocked by hand. Counted now; the list is frozen
        when sending starts.
      </span>
    </p>
  );
}

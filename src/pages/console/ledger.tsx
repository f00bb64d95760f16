/** @jsxImportSource hono/jsx */
import type { ChainVerification } from '../../core/consent.js';
import { formatNumber } from './format.js';
import { ConsoleLayout } from './layout.js';

const REASONS: Record<string, string> = {
  prev_hash_mismatch: 'it does not name the hash of the event before it: an event was removed, added or reordered',
  details_mismatch: 'its details no longer match the digest the chain covers: they were edited',
  hash_mismatch: 'its hash does not match its own contents: the event was edited',
};

/** What walking the whole consent ledger found. */
export function LedgerVerifiedPage(props: {
  bookTitle: string;
  csrf: string;
  result: ChainVerification;
  tookMs: number;
}) {
  const r = props.result;
  return (
    <ConsoleLayout title="Consent ledger" section="overview" bookTitle={props.bookTitle} csrf={props.csrf}>
      <section class="panel" aria-labelledby="verdict">
        <h2 id="verdict">{r.ok ? 'The whole chain verifies' : 'The chain is broken'}</h2>
        {r.ok ? (
          <>
            <p role="status">
              <span class="badge ok">Intact</span> All {formatNumber(r.events)} events link up, from the first to the
              newest, in {formatNumber(props.tookMs)} ms.
              {r.pending > 0 ? ` ${formatNumber(r.pending)} newer events are still waiting to be sealed.` : ''}
            </p>
            <p class="muted small">
              Head of the chain: <code>{r.head}</code>. Note it somewhere outside this server: a chain that still ends
              in this hash later has not been rewritten up to here.
            </p>
          </>
        ) : (
          <p role="alert">
            <span class="badge bad">Broken</span> Event {formatNumber(r.brokenAt)} (the {formatNumber(r.events)}th in
            the chain) fails: {REASONS[r.reason] ?? r.reason}. Everything before it verifies.
          </p>
        )}
        <p>
          <a href="/admin">Back to the overview</a>
        </p>
      </section>
    </ConsoleLayout>
  );
}

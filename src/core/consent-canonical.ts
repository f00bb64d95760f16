import type { ConsentEventKind } from '../db/schema.js';
import { sha256Hex } from './crypto.js';

/**
 * What the consent ledger's hash chain covers of an event, in each canonical form. A link is
 * hash = sha256(prev_hash + "\n" + canonical form of the event); the forms are written out here so the
 * chain is verifiable in any language, not by object key order.
 *
 * Form 2 (every event written since erasable details) covers the *details* — source, ip_hash and
 * user_agent, what a person typed or sent — through their digest under a random salt:
 * details_digest = sha256(salt + "\n" + JSON [source, ip_hash, user_agent]). Erasure removes the text
 * and the salt; the digest stays, the chain still verifies, and without the salt nobody can test a guess
 * against it. The database writes the digest (an insert trigger) and seals in this form
 * (consent_events_seal, drizzle/0008); a test holds that SQL and this code to the same bytes.
 *
 * Form 1 (events sealed before) covers the details' text, so it cannot be erased from those events.
 */

export const GENESIS_HASH = '0'.repeat(64);

/** An event as read back from consent_events, with what its link covers. */
export interface ChainedEvent {
  subscriberId: string;
  emailHash: string;
  kind: ConsentEventKind;
  consentTextVersion: number | null;
  topics: string[];
  source: string | null;
  ipHash: string | null;
  userAgent: string | null;
  detailsSalt: string | null;
  detailsDigest: string | null;
  canonicalForm: number;
  occurredAt: Date;
}

/** Byte order of the UTF-8 encoding, which is code point order: what PostgreSQL's bytea comparison sees. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export const detailsDigest = (salt: string, source: string | null, ipHash: string | null, userAgent: string | null) =>
  sha256Hex(`${salt}\n${JSON.stringify([source, ipHash, userAgent])}`);

export function canonicalEvent(e: ChainedEvent): string {
  if (e.canonicalForm === 1) {
    return JSON.stringify([
      e.subscriberId,
      e.emailHash,
      e.kind,
      e.consentTextVersion,
      [...e.topics].sort(),
      e.source,
      e.ipHash,
      e.userAgent,
      e.occurredAt.toISOString(),
    ]);
  }
  return JSON.stringify([
    2,
    e.subscriberId,
    e.emailHash,
    e.kind,
    e.consentTextVersion,
    [...e.topics].sort(byCodePoint),
    e.detailsDigest,
    e.occurredAt.toISOString(),
  ]);
}

export const chainHash = (prevHash: string, e: ChainedEvent): string => sha256Hex(`${prevHash}\n${canonicalEvent(e)}`);

/**
 * Whether a form-2 event's details still match the digest its link covers: the link alone would not
 * notice edited text. Erased details (no salt) have nothing left to match; form 1 hashes the text itself.
 */
export function detailsMatch(e: ChainedEvent): boolean {
  if (e.canonicalForm === 1) return true;
  if (e.detailsSalt === null) return e.source === null && e.ipHash === null && e.userAgent === null;
  return detailsDigest(e.detailsSalt, e.source, e.ipHash, e.userAgent) === e.detailsDigest;
}

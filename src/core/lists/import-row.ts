import { z } from 'zod';
import type { SubscriberStatus } from '../../db/schema.js';
import { sha256Hex } from '../crypto.js';
import { checkEmail } from '../email-address.js';
import { emailHashFor } from '../identity.js';

/** One row of the author's list import, as the admin API and the CLI's CSV reader send it. */
export interface ImportRow {
  email: string;
  name?: string | null | undefined;
  /** Topic slugs, as an array or `;`-separated (as in the CSV); empty means the default-on topics. */
  topics?: string[] | string | null | undefined;
  /** ISO 8601 time (or date) the person gave consent. */
  consent_at?: string | null | undefined;
  /** How they gave it, e.g. "paper form at launch event". */
  consent_source?: string | null | undefined;
  /** The exact wording they agreed to, when it is one of quire's consent texts. */
  consent_text?: string | null | undefined;
  consent_version?: number | string | null | undefined;
  /** A status from `quire subscribers export`: who left is skipped; an active row's confirmed_at is evidence. */
  status?: string | null | undefined;
  /** From the export: when the person confirmed (their double opt-in on the list the file came from). */
  confirmed_at?: string | null | undefined;
  /** The caller's own row number (the CLI sends the CSV line), echoed in `invalid_rows`. */
  row?: number | undefined;
}

export interface InvalidRow {
  row: number;
  field: string;
  message: string;
}

/** A row that passed every check that needs no database. */
export interface PreparedRow {
  row: number;
  email: string;
  key: string;
  emailHash: string;
  name: string | null;
  topics: string[];
  evidence: { at: Date; source: string } | null;
  /** Version recorded on the ledger (null when the wording is not one of ours). */
  consentTextVersion: number | null;
  /** sha256 of a consent text that is not one of quire's versions, kept in the ledger's source. */
  unknownTextDigest: string | null;
  /** The file says this person left the list (an export's status): the row is skipped, never mailed. */
  leftInFile: SubscriberStatus | null;
}

/** Statuses of people who left: never imported, whatever else the row says. */
export const LEFT_STATUSES: SubscriberStatus[] = ['unsubscribed', 'bounced', 'complained', 'erased'];

/** The ledger's source for an exported row's own double opt-in, when it comes back as evidence. */
export const EXPORTED_CONFIRMATION = 'double opt-in confirmed on the exported list';

/** What a row is checked against: the list's topics and consent texts, read once per import. */
export interface RowContext {
  secret: string;
  now: Date;
  known: Set<string>;
  defaults: string[];
  versions: Set<number>;
  versionBySha: Map<string, number>;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
// C0 controls and DEL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
const CONTROL = /[\u0000-\u001f\u007f]/;
const SHORT_TEXT = 'at most 200 characters, no control characters';

/** Blank (missing, null or only spaces) reads as absent. */
const optionalText = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? null : v),
  z.string().trim().nullish(),
);
const shortText = optionalText.refine((v) => v == null || (v.length <= 200 && !CONTROL.test(v)), SHORT_TEXT);

/**
 * The row schema, bound to one import's topics and consent texts. Fields are checked in this order and
 * the first problem is what the author sees for the row.
 */
export function importRowSchema(ctx: RowContext) {
  return z
    .object({
      email: z.unknown().transform((v, c) => {
        const checked = checkEmail(typeof v === 'string' ? v : '');
        if (checked.ok) return checked;
        c.addIssue({
          code: 'custom',
          message: typeof v === 'string' && v.trim() !== '' ? 'not a valid email address' : 'missing',
        });
        return z.NEVER;
      }),
      name: shortText,
      topics: z
        .union([z.array(z.string()), optionalText])
        .transform((v) =>
          [...new Set((Array.isArray(v) ? v : (v ?? '').split(';')).map((t) => t.trim()).filter(Boolean))].sort(),
        )
        .superRefine((slugs, c) => {
          const unknown = slugs.filter((s) => !ctx.known.has(s));
          if (unknown.length)
            c.addIssue({ code: 'custom', message: `unknown topic: ${unknown.join(', ').slice(0, 200)}` });
        }),
      consent_version: z
        .union([z.number(), optionalText])
        .transform((v) => (v == null ? null : Number(v)))
        .refine((v) => v === null || (Number.isInteger(v) && ctx.versions.has(v)), 'not a known consent text version'),
      // Not trimmed here: the wording is matched as given and trimmed (see below).
      consent_text: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? null : v), z.string().nullish()),
      consent_at: optionalText,
      consent_source: shortText,
      status: optionalText.refine(
        (v) => v == null || ['pending', 'active', ...LEFT_STATUSES].includes(v.toLowerCase()),
        'not a subscriber status (pending, active, unsubscribed, bounced, complained)',
      ),
      confirmed_at: optionalText,
    })
    .transform((r, c) => {
      // The wording, when given, names its version; a version given beside it must agree.
      let consentTextVersion = r.consent_version;
      let unknownTextDigest: string | null = null;
      if (r.consent_text != null) {
        const digest = sha256Hex(r.consent_text.trim());
        const version = ctx.versionBySha.get(digest) ?? ctx.versionBySha.get(sha256Hex(r.consent_text));
        if (consentTextVersion !== null && version !== undefined && version !== consentTextVersion) {
          c.addIssue({
            code: 'custom',
            path: ['consent_text'],
            message: `is consent text version ${version}, not ${consentTextVersion}`,
          });
          return z.NEVER;
        }
        if (version !== undefined) consentTextVersion = version;
        else if (consentTextVersion === null) unknownTextDigest = digest;
      }
      const status = (r.status?.toLowerCase() ?? null) as SubscriberStatus | null;
      // An export's active row carries its own confirmation; explicit consent columns still win.
      const exported =
        status === 'active' && r.confirmed_at != null && r.consent_at == null && r.consent_source == null;
      const consentAt = exported ? r.confirmed_at : r.consent_at;
      const consentSource = exported ? EXPORTED_CONFIRMATION : r.consent_source;
      const atField = exported ? 'confirmed_at' : 'consent_at';
      // Evidence of consent is when and how, both or neither.
      let evidence: PreparedRow['evidence'] = null;
      if ((consentAt == null) !== (consentSource == null)) {
        c.addIssue({
          code: 'custom',
          path: [consentAt == null ? 'consent_at' : 'consent_source'],
          message: 'consent evidence needs both consent_at and consent_source',
        });
        return z.NEVER;
      }
      if (consentAt != null && consentSource != null) {
        const at = ISO_TIME.test(consentAt) ? new Date(consentAt) : new Date(Number.NaN);
        if (Number.isNaN(at.getTime())) {
          c.addIssue({
            code: 'custom',
            path: [atField],
            message: 'not an ISO 8601 time with a time zone (e.g. 2026-03-14T18:30:00Z) or a date',
          });
          return z.NEVER;
        }
        if (at.getTime() > ctx.now.getTime()) {
          c.addIssue({ code: 'custom', path: [atField], message: 'is in the future' });
          return z.NEVER;
        }
        evidence = { at, source: consentSource };
      }
      return {
        email: r.email.email,
        key: r.email.key,
        emailHash: emailHashFor(ctx.secret, r.email.key),
        name: r.name ?? null,
        topics: r.topics.length ? r.topics : ctx.defaults,
        evidence,
        consentTextVersion,
        unknownTextDigest,
        leftInFile: status !== null && LEFT_STATUSES.includes(status) ? status : null,
      };
    });
}

/** Check one row; the first problem found is the one reported. */
export function prepareRow(
  schema: ReturnType<typeof importRowSchema>,
  input: ImportRow,
  index: number,
): PreparedRow | InvalidRow {
  const row = input.row ?? index + 1;
  const parsed = schema.safeParse(input);
  if (parsed.success) return { row, ...parsed.data };
  const issue = parsed.error.issues[0]!;
  return { row, field: String(issue.path[0] ?? 'row'), message: issue.message };
}

/** The ledger's source for an imported consent: how and when it was given, all hashed into the chain. */
export function importedConsentSource(r: Pick<PreparedRow, 'evidence' | 'unknownTextDigest'>): string {
  const base = `import:${r.evidence!.source}@${r.evidence!.at.toISOString()}`;
  return r.unknownTextDigest ? `${base}#text-sha256=${r.unknownTextDigest}` : base;
}

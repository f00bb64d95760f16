import { z } from 'zod';
import { subscriberStatuses } from '../../../db/schema.js';

/** A blank field (an "Any" option, an emptied search box) is no filter at all. */
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** The list's query string; a value that does not fit is dropped rather than refused (it came from a URL). */
export const ListQuery = z.object({
  search: z.preprocess(blank, z.string().trim().max(320).optional()).catch(undefined),
  status: z.preprocess(blank, z.enum(subscriberStatuses).optional()).catch(undefined),
  topic: z.preprocess(blank, z.string().trim().max(100).optional()).catch(undefined),
  source: z.preprocess(blank, z.string().trim().max(200).optional()).catch(undefined),
  cursor: z.preprocess(blank, z.string().max(200).optional()).catch(undefined),
});

export const IdParam = z.object({ id: z.uuid() });

/** What an action did, shown once on the subscriber's page after its redirect. */
export const NOTICES = {
  unsubscribed: { text: 'Unsubscribed. They will get no more mail; the ledger records it.' },
  already_unsubscribed: { text: 'Nothing to do: they were not subscribed.' },
  confirmation_queued: { text: 'A new confirmation mail is on its way.' },
  cooldown: { text: 'A confirmation mail went out a few minutes ago; try again later.', bad: true },
  not_pending: { text: 'Nothing sent: they are not waiting for a confirmation.', bad: true },
  unknown: { text: 'Nothing sent: the address is not on the list.', bad: true },
  erased: { text: 'Erased. Only the pseudonymous ledger and a keyed hash of the address remain.' },
  already_erased: { text: 'They were erased already.' },
} as const;

export type Notice = keyof typeof NOTICES;

export const noticeOf = (value: string | undefined) =>
  value && value in NOTICES ? NOTICES[value as Notice] : undefined;

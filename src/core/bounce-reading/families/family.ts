import type { MailView } from '../message.js';
import type { ProseFailure } from '../types.js';

/** A reader for the plain-prose reports of one kind of MTA. */
export interface Family {
  name: string;
  /** Whether the report is this family's: its own sentences, never a guess. */
  matches(mail: MailView): boolean;
  /** The failed recipients and what was said about each. */
  read(mail: MailView, own: Set<string>): ProseFailure[];
}

import type { BounceType } from '../../db/schema.js';

/** One failed recipient as a reader found it, before it becomes a BounceReport. */
export interface Failure {
  type: BounceType;
  email: string | undefined;
  diagnostic: string;
}

/** What a family module takes out of a prose bounce, before classification. */
export interface ProseFailure {
  email: string | undefined;
  diagnostic: string;
  /** The family already knows the class (a delay warning is soft whatever it quotes). */
  hint?: BounceType | undefined;
  status?: string | undefined;
}

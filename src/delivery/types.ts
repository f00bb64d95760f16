import type { Mailer, OutgoingMessage } from '../mail/mailer.js';
import type { DeliveryJob } from './outbox-store.js';
import type { Pacer } from './pacer.js';

/** The sending engine's seams: what it asks of composers, what it tells the domain, how it is set. */

/** What a composer decides for a claimed row: a message to send, or a reason not to send it. */
export type Composed = { message: OutgoingMessage } | { skip: string };

export interface Composer {
  /** Load what a whole batch needs in a few queries (recipients, rendered broadcasts). */
  prepare?(jobs: DeliveryJob[]): Promise<void>;
  compose(job: DeliveryJob): Promise<Composed>;
}

/** What the engine reports back to the domain. */
export interface DeliveryEvents {
  /** A bad mailbox (5.1.x, or the provider refuses the address): suppress it and record it in the ledger. */
  /** `via`: an SMTP relay refused the recipient, or a provider's API did. */
  hardBounce(job: DeliveryJob, diagnostic: string, via: 'smtp' | 'api'): Promise<void>;
  /** Too many failures in a row for one broadcast: pause it for the author to look at. */
  errorStreak?(broadcastId: string, lastError: string): Promise<void>;
  /** After a batch: broadcasts that had rows in it may now be complete. */
  batchSettled?(broadcastIds: string[]): Promise<void>;
}

/** One transport for every row, or one per row (broadcasts may have their own: BROADCAST_MAIL_DSN). */
export type MailerFor = Mailer | ((job: DeliveryJob) => Mailer);

export interface EngineOptions {
  batchSize: number;
  concurrency: number;
  leaseMs: number;
  /** Attempts before a transient failure becomes final, unless `giveUpAt` decides by time instead. */
  maxAttempts: number;
  /** The time after which a row is not retried any more (a confirmation: when its link expires). */
  giveUpAt?: ((job: DeliveryJob) => Date) | undefined;
  /** Consecutive failures of one broadcast that pause it. */
  pauseAfterErrors: number;
  now: () => Date;
  /** Shared across batches so the rate holds for the worker, not per batch. */
  pace: Pacer;
  /** A pacer per transport, when they differ (a provider's own rate); `pace` otherwise. */
  paceFor?: ((mailer: Mailer) => Pacer) | undefined;
  random?: () => number;
}

export interface BatchReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  skipped: number;
  /**
   * Sends that failed because the relay could not be reached (counted in `retried` too). The batch then
   * stops early, its untried rows go back to the queue, and a loop waits before claiming again.
   */
  relayUnreachable: number;
  /** Rows the transport asked us to send later (rate limited): back in the queue, no attempt spent. */
  throttled: number;
}

export const emptyReport = (): BatchReport => ({
  claimed: 0,
  sent: 0,
  retried: 0,
  failed: 0,
  skipped: 0,
  relayUnreachable: 0,
  throttled: 0,
});

import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { HumanCheck } from './turnstile.js';

/** What the domain needs from the outside world, passed explicitly to every core function. */
export interface CoreDeps {
  db: Db;
  config: Config;
  /** The secret that keys tokens and address hashes. */
  secret: string;
  now: () => Date;
  /** Called after a transaction that queued mail commits, so a delivery loop in this process wakes up. */
  outboxChanged?: () => void;
  /**
   * Freeze a broadcast's audience in the background (a send answers before a large audience is written);
   * without it the freeze runs in the call that accepts the send.
   */
  freezeRequested?: (broadcastId: string) => void;
  /**
   * Why broadcasts cannot be sent at all with this configuration (their transport carries transactional
   * mail only), or undefined when they can.
   */
  broadcastsRefused?: string | undefined;
  /** Server-side CAPTCHA check (Turnstile) when configured. */
  verifyHuman?: HumanCheck | undefined;
}

/** Who made a request: pseudonymised before it is stored. */
export interface RequestMeta {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

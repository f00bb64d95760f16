import type { DeliveryMessage } from '../../delivery/fan-out.js';
import type { CheckpointBinding } from './checkpoints.js';

/** The Worker's bindings (wrangler.toml). */
export interface Env {
  /** Hyperdrive in front of the PostgreSQL server; DATABASE_URL is used when it is absent. */
  HYPERDRIVE?: Hyperdrive;
  /** Producer for the `quire-delivery` queue; without it the cron delivers alone. */
  DELIVERY_QUEUE?: Queue<DeliveryMessage>;
  /** An R2 bucket or KV namespace for the consent ledger's checkpoints; without it none are kept automatically. */
  LEDGER_CHECKPOINTS?: CheckpointBinding;
  /** Everything else: [vars] and secrets, parsed by the one configuration schema (src/config.ts). */
  [name: string]: unknown;
}

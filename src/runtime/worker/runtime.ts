import { type Config, parseConfig } from '../../config.js';
import type { LedgerKey } from '../../core/ledger-key.js';
import { createLogger, type Logger } from '../../log.js';
import { mailTransports } from '../../mail/dsn/index.js';
import type { Env } from './env.js';

/** What every invocation of one isolate shares: configuration and a logger. */
export interface Runtime {
  config: Config;
  secret: string;
  databaseUrl: string;
  log: Logger;
  /** LEDGER_SIGNING_KEY, imported by the first invocation that needs it (Web Crypto's import is async). */
  ledgerKey?: Promise<LedgerKey>;
}

/**
 * Configuration is parsed once per isolate (per `env` object) with the same schema as on Node, from
 * [vars] and secrets; the database URL comes from the Hyperdrive binding when there is one.
 */
const runtimes = new WeakMap<object, Runtime>();

export function runtimeFor(env: Env): Runtime {
  const known = runtimes.get(env);
  if (known) return known;
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') vars[key] = String(value);
  }
  if (env.HYPERDRIVE) vars.DATABASE_URL = env.HYPERDRIVE.connectionString;
  const config = parseConfig(vars, 'workers');
  const log = createLogger(config.LOG_LEVEL);
  for (const spec of Object.values(mailTransports(config))) {
    if (spec?.kind === 'smtp' && spec.port === 25)
      log.warn('the SMTP transport uses port 25, which Cloudflare blocks; use 587 or 465');
  }
  const runtime: Runtime = { config, secret: config.SECRET_KEY!, databaseUrl: config.DATABASE_URL!, log };
  runtimes.set(env, runtime);
  return runtime;
}

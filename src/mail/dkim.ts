import type { Config } from '../config.js';
import type { DkimOptions } from './smtp.js';

/** DKIM signing from configuration, or undefined when it is not configured (the schema takes all three or none). */
export function dkimFromConfig(
  config: Pick<Config, 'DKIM_DOMAIN' | 'DKIM_SELECTOR' | 'DKIM_PRIVATE_KEY'>,
): DkimOptions | undefined {
  if (!config.DKIM_DOMAIN || !config.DKIM_SELECTOR || !config.DKIM_PRIVATE_KEY) return undefined;
  return { domainName: config.DKIM_DOMAIN, keySelector: config.DKIM_SELECTOR, privateKey: config.DKIM_PRIVATE_KEY };
}

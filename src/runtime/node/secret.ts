import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { importLedgerKey, type LedgerKey, newLedgerSeed } from '../../core/ledger-key.js';

/** SECRET_KEY, or one generated once into the data directory (development only; config refuses it in production). */
export async function resolveSecret(config: Config): Promise<string> {
  if (config.SECRET_KEY) return config.SECRET_KEY;
  const file = join(config.QUIRE_DATA_DIR, 'secret.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(config.QUIRE_DATA_DIR, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(async () => {
      // Another process won the race: use its key.
    });
    return (await readFile(file, 'utf8')).trim();
  }
}

/**
 * LEDGER_SIGNING_KEY, or a seed generated once into the data directory. Unlike SECRET_KEY this is allowed
 * in production: what it must be kept from is the database, and the data directory is not the database
 * on PostgreSQL. On PGlite it is, so a key set from outside is worth more there (README "The database roles").
 */
export async function resolveLedgerKey(config: Config): Promise<LedgerKey> {
  if (config.LEDGER_SIGNING_KEY) return importLedgerKey(config.LEDGER_SIGNING_KEY);
  const file = join(config.QUIRE_DATA_DIR, 'ledger-signing.key');
  try {
    return await importLedgerKey(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(config.QUIRE_DATA_DIR, { recursive: true });
    await writeFile(file, `${newLedgerSeed()}\n`, { mode: 0o600, flag: 'wx' }).catch(() => {
      // Another process won the race: use its key.
    });
    return importLedgerKey(await readFile(file, 'utf8'));
  }
}

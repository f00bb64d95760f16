import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from './config.js';

/**
 * Node-only helpers for the entries (`node.ts`, `cli.ts`): the generated development secret and the
 * PGlite data-directory lock.
 */

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
 * PGlite has no lock of its own and two processes on one data directory corrupt it: take a pid file,
 * refusing when a live process holds it.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'quire.pid');
  try {
    await writeFile(file, String(process.pid), { flag: 'wx' });
  } catch {
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(
        `The embedded database in ${dir} is in use by process ${pid}. Stop it first, or set DATABASE_URL to share a PostgreSQL server between processes.`,
      );
    }
    await writeFile(file, String(process.pid));
  }
  return async () => {
    await rm(file, { force: true });
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

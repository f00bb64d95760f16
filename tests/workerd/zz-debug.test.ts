import { it } from 'vitest';
import { startWorkerRig } from './support.js';
it.runIf(process.env.TEST_DATABASE_URL)('dump logs', async () => {
  const w = await startWorkerRig();
  for (const p of ['db', 'scope', 'db']) { await w.fetch('/readyz?probe=' + p); await new Promise((r) => setTimeout(r, 300)); }
  (await import('node:fs')).writeFileSync('/tmp/wlogs.json', JSON.stringify(w.server.getLogs().map((l) => l.message), null, 1));
  await w.close();
}, 60000);

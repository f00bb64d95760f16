import { it } from 'vitest';
import { startWorkerRig } from './support.js';
it.runIf(process.env.TEST_DATABASE_URL)('dump logs', async () => {
  const w = await startWorkerRig();
  for (let i = 0; i < 3; i++) { await w.fetch('/readyz'); await new Promise((r) => setTimeout(r, 300)); }
  (await import('node:fs')).writeFileSync('/tmp/wlogs.json', JSON.stringify(w.server.getLogs().map((l) => l.message), null, 1));
  await w.close();
}, 60000);

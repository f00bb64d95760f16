import { it } from 'vitest';
import { startWorkerRig } from './support.js';
it.runIf(process.env.TEST_DATABASE_URL)('dump logs', async () => {
  const w = await startWorkerRig();
  await w.fetch('/readyz');
  await w.fetch('/v1/subscriptions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'x@example.com', consent: true }) });
  await new Promise((r) => setTimeout(r, 1500));
  (await import('node:fs')).writeFileSync('/tmp/wlogs.json', JSON.stringify(w.server.getLogs(), null, 1));
  await w.close();
}, 60000);

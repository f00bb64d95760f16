import { holdHeap } from './heap.js';

/**
 * Node entry (`npm start`, `npm run worker`; src/runtime/node/start.ts). Everything else is imported only
 * after the heap is held (src/runtime/node/heap.ts), since loading it is what would grow it.
 */
const loaded = holdHeap();
try {
  const { start } = await import('./start.js');
  await start(loaded);
} catch (err) {
  const { ConfigError } = await import('../../config.js');
  console.error(err instanceof ConfigError ? err.message : `quire failed to start: ${(err as Error).message}`);
  process.exit(1);
}

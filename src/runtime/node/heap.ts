import { setFlagsFromString } from 'node:v8';

/**
 * V8 grows its young generation each time a scavenge finds many objects still alive, and the process keeps
 * that memory for good. Loading the module graph (drizzle's ESM files and their chains of re-exports) makes
 * such objects by the hundred thousand, and so does a broadcast in flight (each message lives for a round
 * trip): left alone, the young generation grows many times over (docs/benchmarks.md, "delivery"). Held at
 * its starting size, it costs a delivery worker a little CPU in more frequent scavenges and keeps it small.
 * Returns the function that lets it grow again (the HTTP server does, once its modules are loaded).
 */
export function holdYoungGeneration(): () => void {
  setFlagsFromString('--semi-space-growth-factor=1');
  return () => setFlagsFromString('--semi-space-growth-factor=2');
}

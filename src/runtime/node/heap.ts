import { setFlagsFromString } from 'node:v8';

/**
 * V8 sizes its heap for speed: the young generation grows each time a scavenge finds many objects still
 * alive, and the old one is let grow to a few times what is live before it is collected again; the process
 * keeps what it grew. Loading the module graph (drizzle's ESM files and their chains of re-exports) makes
 * such objects by the hundred thousand, and so does a broadcast in flight (each message lives for a round
 * trip): left alone, a delivery worker's memory is mostly garbage (docs/benchmarks.md, "delivery"). Here
 * the young generation keeps its starting size and the old one grows by a fifth over what is live, at a
 * small cost in collections. Returns the function that gives V8 its own sizing back (the HTTP server does,
 * once its modules are loaded).
 */
export function holdHeap(): () => void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=20');
  return () => {
    setFlagsFromString('--semi-space-growth-factor=2');
    setFlagsFromString('--heap-growing-percent=0');
  };
}

#!/usr/bin/env node
// The `quire` command: runs src/cli.ts through tsx's loader, in this process, from wherever it is called.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli.ts', import.meta.url).href);

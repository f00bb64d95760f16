#!/usr/bin/env node
// `npm test`: run the whole suite on PGlite, and on PostgreSQL too when a server is reachable.
// TEST_DATABASE_URL chooses the server (CI sets it); otherwise the local default is probed;
// TEST_DATABASE_URL=none runs PGlite only.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { ensureChromium } from './ensure-chromium.mjs';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 5432) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

const env = { ...process.env };
const requested = env.TEST_DATABASE_URL;
if (requested === 'none' || requested === '') {
  delete env.TEST_DATABASE_URL;
  console.log('quire tests: PostgreSQL skipped (TEST_DATABASE_URL=none); running on PGlite only.');
} else {
  const url = requested ?? DEFAULT_URL;
  if (await reachable(url)) {
    env.TEST_DATABASE_URL = url;
    console.log(`quire tests: running on PGlite and on PostgreSQL at ${new URL(url).host}${new URL(url).pathname}.`);
  } else if (requested) {
    console.error(`quire tests: TEST_DATABASE_URL is set but ${new URL(url).host} does not answer.`);
    process.exit(1);
  } else {
    delete env.TEST_DATABASE_URL;
    console.log(
      `quire tests: PostgreSQL skipped (nothing listens on ${new URL(url).host}; set TEST_DATABASE_URL); running on PGlite only.`,
    );
  }
}

// Browser tests drive Debian's Chromium; install it with apt once if it is missing (never a download).
const chromium = ensureChromium();
if (!chromium.ok) console.log(`quire tests: browser tests skipped (${chromium.reason}).`);

const child = spawn('vitest', ['run', ...process.argv.slice(2)], { stdio: 'inherit', env, shell: false });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));

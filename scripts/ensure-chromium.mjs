#!/usr/bin/env node
// Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests. It only ever installs the
// distribution package with apt-get — never a browser download (playwright-core ships without browsers).
// `node scripts/ensure-chromium.mjs` exits 0 when Chromium is there afterwards, 1 when it is not.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** @returns {{ ok: boolean, reason?: string }} */
export function ensureChromium({ log = console.log } = {}) {
  if (existsSync(CHROMIUM_PATH)) return { ok: true };
  if (process.platform !== 'linux') return { ok: false, reason: `${CHROMIUM_PATH} is missing and this is not Linux` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return {
      ok: false,
      reason: `${CHROMIUM_PATH} is missing and installing it needs root (run: apt-get install -y chromium)`,
    };
  }
  if (spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) {
    return { ok: false, reason: `${CHROMIUM_PATH} is missing and apt-get is not available` };
  }
  log("quire tests: installing Debian's chromium with apt-get (once)…");
  // Another test run may be installing at the same moment: wait for the dpkg lock instead of failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps = [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'chromium'],
  ];
  for (const args of steps) {
    const run = spawnSync('apt-get', [...lock, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (run.status !== 0) return { ok: false, reason: `apt-get ${args[0]} failed (exit ${run.status ?? run.signal})` };
  }
  return existsSync(CHROMIUM_PATH)
    ? { ok: true }
    : { ok: false, reason: `apt-get finished but ${CHROMIUM_PATH} is still missing` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = ensureChromium();
  if (result.ok) console.log(`chromium: ${CHROMIUM_PATH}`);
  else console.error(`chromium: ${result.reason}`);
  process.exit(result.ok ? 0 : 1);
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The installed postgres.js carries our patch (patches/postgres+*.patch, applied by patch-package on
 * install): without it, PostgreSQL going away under load ends the Node process (porsager/postgres #1154,
 * #1208). tests/integration/postgres-restart.test.ts proves the behaviour; this says the patch is there
 * in each build a runtime loads (ESM and CommonJS on Node, cf/ in the Worker bundle). When an upgrade
 * fails here, check whether the release fixed #1208 (then drop the patch) or remake it.
 */
describe('the installed postgres.js', () => {
  // The package exports no package.json: climb from its CommonJS entry (cjs/src/index.js).
  const root = join(dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');

  for (const file of ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js']) {
    it(`has the closed-connection guard in ${file}`, () => {
      const source = readFileSync(join(root, file), 'utf8');
      // A deferred write on a closed connection rejects its queries instead of throwing in a timer.
      expect(source).toContain(
        '    if (!socket) { // quire: closed before this deferred write ran (porsager/postgres #1208)\n',
      );
      expect(source).toContain(
        "      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n    const x = socket.write(chunk, fn)",
      );
      // Teardown forgets the cleared timer and the bytes meant for the dead socket.
      expect(source.match(/\n {4}clearImmediate\(nextWriteTimer\), chunk = nextWriteTimer = null\n/g)).toHaveLength(2);
      // A close rejects whatever still waits on the connection, error or not.
      expect(source).not.toContain('!hadError && (query || sent.length)');
      expect(source).toContain(
        "\n    ;(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
      );
    });
  }
});

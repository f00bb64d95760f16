import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { patchPostgresConnection } from '../../src/db/postgres-js-fix.js';

/**
 * The load-time fix for postgres.js (src/db/postgres-js-fix.ts) applies to the installed version. When an
 * upgrade changes the module this fails: check whether the release fixed porsager/postgres #1208 (then
 * drop the fix) or adapt the snippets.
 */
describe('the postgres.js connection fix', () => {
  // The package exports no package.json: climb from its CommonJS entry (cjs/src/index.js).
  const root = join(dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');

  for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
    it(`patches ${file} of the installed postgres.js`, () => {
      const source = readFileSync(join(root, file), 'utf8');
      const patched = patchPostgresConnection(source);
      expect(patched).toBeDefined();
      expect(patched).toContain("if (!socket) { // quire: closed before this deferred write ran");
      expect(patched!.match(/clearImmediate\(nextWriteTimer\), chunk = nextWriteTimer = null/g)).toHaveLength(2);
      expect(patched).not.toContain('!hadError && (query || sent.length)');
      // Still a module that parses.
      expect(() => new Function(patched!.replace(/^\s*(import|export)\b.*$/gm, ''))).not.toThrow();
    });
  }

  it('leaves a module it does not recognise alone', () => {
    expect(patchPostgresConnection('function nextWrite(fn) { return socket?.write(chunk, fn) }')).toBeUndefined();
  });
});

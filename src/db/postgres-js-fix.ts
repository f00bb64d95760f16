import * as nodeModule from 'node:module';

/**
 * postgres.js 3.4.9 (the newest release) kills the process when PostgreSQL goes away under load. Small
 * writes are deferred with setImmediate; when a connection closes first — typically a transaction's
 * ROLLBACK written to its reserved connection just after that connection closed — the deferred write
 * calls `socket.write` on null inside the immediate callback: an uncaught TypeError, and Node exits
 * (porsager/postgres #1154, #1066, #1208; fixes proposed in #1168, #1176, #1209, none released). Teardown
 * also clears that timer without forgetting it, so a connection that lives on never flushes a small write
 * again (every query on it waits for connect_timeout); and a query written between a socket's 'error' and
 * its 'close' is never settled, so its request hangs and its connection is never given back.
 *
 * Until a release fixes it, Node loads postgres.js's connection module with the guard those pull requests
 * propose: a deferred write on a closed connection rejects its queries with CONNECTION_CLOSED (a 503 here)
 * instead of throwing, teardown forgets the cleared timer and the bytes meant for the dead socket, and a
 * close rejects whatever is still waiting on the connection, error or not.
 * Applied only when every snippet matches exactly, so a fixed or changed postgres.js is left alone;
 * `postgresJsFix` says what happened. Node only (the Workers bundle has its own copy, per request).
 */

const CONNECTION_MODULE = /\/postgres\/(?:cjs\/)?src\/connection\.js$/;
const NEXT_WRITE = 'function nextWrite(fn) {\n    const x = socket.write(chunk, fn)';
const TEARDOWN = '\n    clearImmediate(nextWriteTimer)\n';
const CLOSED_REJECTS = "\n    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n";

export const postgresJsFix = { installed: false, patched: 0, unmatched: 0 };

/** The patched source, or undefined when it does not look like the known 3.4.x module. */
export function patchPostgresConnection(source: string): string | undefined {
  if (!source.includes(NEXT_WRITE) || source.split(TEARDOWN).length !== 3 || source.split(CLOSED_REJECTS).length !== 2) return undefined;
  return source
    .replace(
      NEXT_WRITE,
      [
        'function nextWrite(fn) {',
        '    if (!socket) { // quire: closed before this deferred write ran (porsager/postgres #1208)',
        '      nextWriteTimer !== null && clearImmediate(nextWriteTimer)',
        '      chunk = nextWriteTimer = null',
        "      error(Errors.connection('CONNECTION_CLOSED', options))",
        '      return false',
        '    }',
        '    const x = socket.write(chunk, fn)',
      ].join('\n'),
    )
    .replaceAll(TEARDOWN, '\n    clearImmediate(nextWriteTimer), chunk = nextWriteTimer = null\n')
    // A query written after the socket's 'error' and before its 'close' (the ROLLBACK again) was never
    // rejected when the close came with an error: it waited forever, holding its connection.
    .replace(CLOSED_REJECTS, "\n    ;(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n");
}

/** Register the load hook; call before anything imports postgres. Idempotent. */
export function installPostgresJsFix(): void {
  const registerHooks = (nodeModule as { registerHooks?: typeof import('node:module').registerHooks }).registerHooks;
  if (postgresJsFix.installed || typeof registerHooks !== 'function') return;
  postgresJsFix.installed = true;
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (!CONNECTION_MODULE.test(url) || result.source == null) return result;
      const patched = patchPostgresConnection(typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8'));
      if (patched === undefined) {
        postgresJsFix.unmatched++;
        return result;
      }
      postgresJsFix.patched++;
      return { ...result, source: patched };
    },
  });
}

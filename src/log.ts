/**
 * Structured JSON logs, one object per line. Callers pass only non-personal fields: ids, route
 * patterns, status codes, outcomes. Never an email address, a name, a token or an IP.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => console.log(l)): Logger {
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** An error's class and message, without its stack or any SQL parameters it may carry. */
export function errorFields(err: unknown): Record<string, unknown> {
  let e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  // drizzle wraps driver errors as "Failed query: <SQL>"; the driver's own error says what went wrong.
  if (e?.message?.startsWith('Failed query') && e.cause) e = e.cause as typeof e;
  return {
    error: e?.name ?? 'Error',
    code: e?.code,
    reason: String(e?.message ?? err)
      .split('\n')[0]!
      .slice(0, 200),
  };
}

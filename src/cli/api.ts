import { type ParseArgsConfig, parseArgs } from 'node:util';

/** An error the CLI reports as one message (plus detail lines) and an exit code, never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** Asked for --help: print the usage and exit 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help');
  }
}

export const usageError = (message: string, usage: string) => new CliError(`${message}\n\n${usage}`, 2);

/** node:util parseArgs with --help on every command, and usage errors that show the usage. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  usage: string,
) {
  const parse = () =>
    parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (err) {
    throw usageError((err as Error).message, usage);
  }
  if ((parsed.values as Record<string, unknown>).help) throw new HelpRequested(usage);
  return parsed as unknown as {
    values: {
      [K in keyof O]?: O[K] extends { multiple: true } ? string[] : O[K] extends { type: 'boolean' } ? boolean : string;
    };
    positionals: string[];
  };
}

export interface Api {
  readonly base: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** The response itself, for downloads; error statuses are already thrown as CliError. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * The admin HTTP API, at QUIRE_URL (default http://localhost:8787) with ADMIN_TOKEN from the
 * environment — never a flag, which would end up in shell history and `ps`.
 */
export function connectApi(env: NodeJS.ProcessEnv = process.env): Api {
  const base = (env.QUIRE_URL || 'http://localhost:8787').replace(/\/+$/, '');
  const token = env.ADMIN_TOKEN;
  if (!token) throw new CliError('ADMIN_TOKEN is not set: export it in the environment (it is never taken as a flag).');

  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { ...init, headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach quire at ${base} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? Set QUIRE_URL to point elsewhere.`,
      );
    }
    if (!res.ok) throw await apiError(res);
    return res;
  };

  const json = async <T>(path: string, init?: RequestInit): Promise<T> =>
    (await request(path, init)).json() as Promise<T>;
  return {
    base,
    get: (path) => json(path),
    post: (path, body) =>
      json(
        path,
        body === undefined
          ? { method: 'POST' }
          : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      ),
    fetch: request,
  };
}

/** The error envelope's message and field errors, or the bare status when the answer is not ours. */
async function apiError(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as {
      error: { code: string; message: string; fields?: { path: string; message: string }[] };
    };
    // A token refused by a server that has one: the two ADMIN_TOKENs differ (the server's is read at its start).
    const hint =
      error?.code === 'unauthorized' && !/disabled/.test(error.message)
        ? ['this shell’s ADMIN_TOKEN is not the one the server was started with']
        : [];
    if (error?.message)
      return new CliError(error.message, 1, [...(error.fields ?? []).map((f) => `${f.path}: ${f.message}`), ...hint]);
  } catch {
    // not the envelope
  }
  return new CliError(`quire answered ${res.status} ${res.statusText}`.trim());
}

export const print = (line = '') => process.stdout.write(`${line}\n`);

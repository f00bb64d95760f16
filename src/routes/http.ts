import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import type { RequestMeta } from '../core/deps.js';
import { AppError, type ErrorCode, type FieldError } from '../core/errors.js';
import { TEXTS } from '../core/texts.js';
import type { AppContext } from './env.js';

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; requestId: string; fields?: FieldError[] };
}

export function envelope(c: Context, code: ErrorCode, message: string, fields?: FieldError[]): ErrorEnvelope {
  const requestId = (c.get('requestId') as string | undefined) ?? 'unknown';
  return { error: { code, message, requestId, ...(fields?.length ? { fields } : {}) } };
}

export const fieldsOf = (err: ZodError): FieldError[] =>
  err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));

const DB_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/** True when the error (or anything in its cause chain) says the database cannot be reached. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string' && DB_UNAVAILABLE.has(e.code)) return true;
    if (e instanceof Error && /PGlite is closed|Connection terminated/i.test(e.message)) return true;
  }
  return false;
}

/** Map anything thrown to the one error envelope; nothing internal reaches the client. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 413) return new AppError('payload_too_large', 'The request body is too large.');
    if (err.status === 400) return new AppError('invalid_json', 'The request body is not valid JSON.');
    if (err.status === 401) return new AppError('unauthorized', 'Missing or invalid admin token.');
    if (err.status === 403) return new AppError('forbidden', 'Cross-site form posts are not accepted here.');
    if (err.status === 404) return new AppError('not_found', 'Not found.');
    if (err.status === 415) return new AppError('unsupported_media_type', 'Unsupported content type.');
  }
  if (isDatabaseUnavailable(err)) return new AppError('service_unavailable', TEXTS.serverFault);
  return new AppError('internal_error', TEXTS.serverFault);
}

export function requestMeta(c: AppContext): RequestMeta {
  const { config } = c.get('services');
  let ip: string | undefined;
  if (config.TRUST_PROXY) {
    // The last X-Forwarded-For entry is the one our proxy appended; the ones before it are whatever the
    // client sent, and taking the first would let anyone pick a fresh IP per request past the per-IP limit.
    ip = c.req.header('cf-connecting-ip') ?? c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    ip ||= undefined; // an empty entry is no address: fall back to the socket peer
  }
  ip ??= remoteAddress(c);
  return { ip, userAgent: c.req.header('user-agent')?.slice(0, 512) };
}

/** The socket peer, as the Node server exposes it (`env.incoming`), when there is one. */
function remoteAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

export type BodyKind = 'json' | 'form';

/**
 * Read a JSON or form body into a plain object. Form fields that repeat become arrays.
 * Wrong content types are a 415 and malformed JSON a 400, both in the envelope.
 */
export async function readBody(
  c: Context,
  accept: BodyKind[] = ['json', 'form'],
): Promise<{ kind: BodyKind; data: Record<string, unknown> }> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (accept.includes('json') && /^application\/([a-z.+-]+\+)?json$/.test(type)) {
    let data: unknown;
    try {
      data = JSON.parse(await c.req.text());
    } catch {
      throw new AppError('invalid_json', 'The request body is not valid JSON.');
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new AppError('validation_failed', 'The request body must be a JSON object.');
    }
    return { kind: 'json', data: data as Record<string, unknown> };
  }
  if (accept.includes('form') && (type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data')) {
    let parsed: Awaited<ReturnType<typeof c.req.parseBody>>;
    try {
      parsed = await c.req.parseBody({ all: true });
    } catch {
      // A multipart body without its boundary, or cut short, is the client's fault: a 400, not a 500.
      throw new AppError('invalid_body', 'The request body could not be read as a form.');
    }
    const data: Record<string, unknown> = Object.create(null);
    for (const [key, value] of Object.entries(parsed)) {
      const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
      data[key.replace(/\[\]$/, '')] = values.length === 1 ? values[0] : values;
    }
    return { kind: 'form', data };
  }
  throw new AppError(
    'unsupported_media_type',
    `Send ${accept.map((k) => (k === 'json' ? 'application/json' : 'application/x-www-form-urlencoded')).join(' or ')}.`,
  );
}

/** A browser form post wants a page or a redirect; a script wants JSON. */
export function wantsHtml(c: Context, kind?: BodyKind): boolean {
  const accept = c.req.header('accept') ?? '';
  if (accept.includes('application/json')) return false;
  if (kind === 'json') return false;
  return accept.includes('text/html') || kind === 'form';
}

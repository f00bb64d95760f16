/** A small closed-loop HTTP load driver: N virtual users, each sending its next request when the last answered. */

export interface Sample {
  /** What kind of request (signup, confirm, …). */
  kind: string;
  at: number;
  ms: number;
  /** HTTP status, or 0 when no answer came (timeout, connection refused or reset). */
  status: number;
  /** Set when the answer broke the contract (wrong shape, missing header, unexpected status). */
  problem?: string;
  detail?: string;
}

export interface TimedResponse {
  status: number;
  ms: number;
  body: string;
  headers: Headers;
  error?: string;
}

/** fetch with a hard timeout; a timeout or a reset is status 0, never an exception. */
export async function timedFetch(url: string, init: RequestInit, timeoutMs: number): Promise<TimedResponse> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, ms: performance.now() - started, body, headers: res.headers };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return {
      status: 0,
      ms: performance.now() - started,
      body: '',
      headers: new Headers(),
      error: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.message),
    };
  }
}

/** The one error envelope: `{ "error": { "code", "message", "requestId" } }`, nothing else at the top. */
export function envelopeProblem(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown; requestId?: unknown } };
    const e = parsed.error;
    if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || typeof e.requestId !== 'string')
      return 'not the error envelope';
    if (/at .+\(.+:\d+:\d+\)|select |insert |update /i.test(body)) return 'stack trace or SQL in the body';
    return undefined;
  } catch {
    return 'not JSON';
  }
}

export interface LoadHandle {
  samples: Sample[];
  stop(): Promise<void>;
}

/** Run `users` loops of `step` until stopped; each step records its own samples. */
export function runLoad(users: number, step: (user: number, i: number) => Promise<void>): LoadHandle {
  let running = true;
  const samples: Sample[] = [];
  const loops = Array.from({ length: users }, async (_, user) => {
    for (let i = 0; running; i++) {
      try {
        await step(user, i);
      } catch (err) {
        samples.push({
          kind: 'driver',
          at: Date.now(),
          ms: 0,
          status: 0,
          problem: `driver error: ${(err as Error).message}`,
        });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

export const signupInit = (email: string, ip: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': ip },
  body: JSON.stringify({ email, consent: true, source: 'chaos' }),
});

/** A random public-looking IPv4 address from a documentation/benchmark range (198.18.0.0/15). */
export const randomIp = (random: () => number) =>
  `198.${18 + Math.floor(random() * 2)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;

import autocannon from 'autocannon';

export interface LoadResult {
  /** Completed 2xx responses per second over the measured window. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
}

let runId = 0;

/**
 * POST unique signups at `url` with autocannon: every request a new address and a new
 * X-Forwarded-For (the server trusts the proxy header), so neither per-address nor per-IP limits
 * are what is measured. Runs `warmupS` seconds first (not counted).
 */
export async function signupLoad(
  url: string,
  opts: { connections: number; durationS: number; warmupS?: number; path?: string },
): Promise<LoadResult> {
  const run = `${process.pid}x${++runId}`;
  let i = 0;
  const requests = [
    {
      method: 'POST',
      path: opts.path ?? '/v1/subscriptions',
      setupRequest: (req: object) => {
        const n = ++i;
        return {
          ...req,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'user-agent': 'quire-bench',
            'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
          },
          body: JSON.stringify({ email: `r${run}-${n}@example.com`, consent: true, source: 'bench' }),
        };
      },
    },
  ];
  if (opts.warmupS) await autocannon({ url, connections: opts.connections, duration: opts.warmupS, requests });
  const r = await autocannon({ url, connections: opts.connections, duration: opts.durationS, requests });
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
  return {
    rps: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    statusCodes,
  };
}

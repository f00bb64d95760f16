/**
 * Cloudflare Turnstile, checked server-side (https://developers.cloudflare.com/turnstile/get-started/server-side-validation/).
 * Fails closed: no token, a network error, a timeout or an unexpected answer all count as "not human".
 */
export type HumanCheck = (token: string | undefined, ip: string | undefined) => Promise<boolean>;

export interface TurnstileOptions {
  secret: string;
  verifyUrl: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createTurnstileCheck(opts: TurnstileOptions): HumanCheck {
  const doFetch = opts.fetch ?? fetch;
  return async (token, ip) => {
    if (!token || token.length > 2048) return false;
    const body = new URLSearchParams({ secret: opts.secret, response: token });
    if (ip) body.set('remoteip', ip);
    try {
      const res = await doFetch(opts.verifyUrl, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
      });
      if (!res.ok) return false;
      const data = (await res.json()) as { success?: unknown };
      return data.success === true;
    } catch {
      return false;
    }
  };
}

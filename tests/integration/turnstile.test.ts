import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/** Cloudflare's siteverify cannot be reached from here: a local stand-in speaks its protocol. */
async function startSiteverify(): Promise<{
  url: string;
  server: Server;
  requests: URLSearchParams[];
  mode: { value: 'ok' | 'error' | 'hang' };
}> {
  const requests: URLSearchParams[] = [];
  const mode = { value: 'ok' as 'ok' | 'error' | 'hang' };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      requests.push(form);
      if (mode.value === 'hang') return; // never answers
      if (mode.value === 'error') return res.writeHead(500).end('oops');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          success: form.get('secret') === 'turnstile-secret' && form.get('response') === 'human-token',
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/siteverify`, server, requests, mode };
}

describe.each(databaseKinds)('Turnstile on %s', (kind) => {
  let h: Harness;
  let verify: Awaited<ReturnType<typeof startSiteverify>>;
  beforeAll(async () => {
    verify = await startSiteverify();
    h = await createHarness(kind, {
      TURNSTILE_SECRET_KEY: 'turnstile-secret',
      TURNSTILE_VERIFY_URL: verify.url,
      DB_TIMEOUT_MS: '500',
    });
  });
  afterAll(async () => {
    await h?.close();
    verify.server.closeAllConnections();
    verify.server.close();
  });

  const count = async (email: string) =>
    (
      await h.query<{ n: number }>('select count(*)::int as n from subscribers where lower(email) = lower($1)', [email])
    )[0]!.n;

  it('accepts a signup whose token the verifier confirms, passing the client IP', async () => {
    const email = uniqueEmail();
    const res = await postSignup(h, { email, 'cf-turnstile-response': 'human-token' }, { ip: '198.51.100.9' });
    expect(res.status).toBe(202);
    expect(await count(email)).toBe(1);
    expect(verify.requests.at(-1)?.get('remoteip')).toBe('198.51.100.9');
  });

  it.each([
    ['no token', undefined, 'ok'],
    ['a rejected token', 'bot-token', 'ok'],
    ['a verifier error', 'human-token', 'error'],
    ['a verifier that never answers', 'human-token', 'hang'],
  ] as const)('fails closed on %s: 422 captcha_failed, nothing stored', async (_label, token, mode) => {
    verify.mode.value = mode;
    const email = uniqueEmail();
    const res = await postSignup(h, { email, ...(token ? { 'cf-turnstile-response': token } : {}) });
    verify.mode.value = 'ok';
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe('captcha_failed');
    expect(await count(email)).toBe(0);
  });
});

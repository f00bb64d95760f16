import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';

// Watch every comparison the admin lock and the webhook signature check make.
vi.mock('../../src/core/crypto.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/core/crypto.js')>();
  return { ...actual, safeEqual: vi.fn(actual.safeEqual) };
});

const { safeEqual } = await import('../../src/core/crypto.js');
const { AppError } = await import('../../src/core/errors.js');
const { requireAdmin } = await import('../../src/routes/admin/auth.js');
const { verifyWebhookSignature } = await import('../../src/routes/webhooks/bounces.js');

const TOKEN = 'unit-admin-token-0123456789';

/** requireAdmin alone, in front of a handler that says it ran. */
function appWith(adminToken: string | undefined) {
  const app = new Hono<{ Variables: { services: never } }>();
  app.use(async (c, next) => {
    c.set('services', { config: { ADMIN_TOKEN: adminToken } } as never);
    await next();
  });
  app.use(requireAdmin as never);
  app.get('/admin/x', (c) => c.text('handler ran'));
  app.onError((err, c) =>
    c.json(
      { code: err instanceof AppError ? err.code : 'other', message: err.message },
      err instanceof AppError ? (err.status as 401) : 500,
    ),
  );
  return app;
}

describe('the admin lock compares in constant time', () => {
  it('sends every presented token, of any length, through safeEqual exactly once', async () => {
    const app = appWith(TOKEN);
    const compare = vi.mocked(safeEqual);
    const answers: string[] = [];
    for (const presented of [`${TOKEN.slice(0, -1)}x`, TOKEN.slice(0, 3), `${TOKEN}${TOKEN}`, 'x'.repeat(4096)]) {
      compare.mockClear();
      const res = await app.request('/admin/x', { headers: { authorization: `Bearer ${presented}` } });
      expect(res.status).toBe(401);
      // No length check or early return before the comparison: the one call sees both strings whole.
      expect(compare).toHaveBeenCalledTimes(1);
      expect(compare).toHaveBeenCalledWith(presented, TOKEN);
      expect(compare).toHaveReturnedWith(false);
      answers.push(`${res.headers.get('www-authenticate')} ${await res.text()}`);
    }
    expect(new Set(answers).size).toBe(1);
    compare.mockClear();
    const ok = await app.request('/admin/x', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await ok.text()).toBe('handler ran');
    expect(compare).toHaveBeenCalledTimes(1);
  });

  it('with no ADMIN_TOKEN configured, refuses everything and compares nothing', async () => {
    const app = appWith(undefined);
    const compare = vi.mocked(safeEqual);
    compare.mockClear();
    for (const authorization of ['', 'Bearer anything-at-all-0123456789', 'Bearer undefined']) {
      const res = await app.request('/admin/x', { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
    }
    expect(compare).not.toHaveBeenCalled();
  });

  it('the webhook signature check compares every candidate signature, so timing does not say which one matched', () => {
    const compare = vi.mocked(safeEqual);
    compare.mockClear();
    const now = new Date('2026-11-25T12:00:00Z');
    const t = Math.floor(now.getTime() / 1000);
    const ok = verifyWebhookSignature(
      'webhook-secret-0123456789',
      `t=${t},v1=${'0'.repeat(64)},v1=abc,v1=${'f'.repeat(64)}`,
      new Uint8Array([123, 125]),
      now,
    );
    expect(ok).toBe(false);
    expect(compare).toHaveBeenCalledTimes(3);
  });
});

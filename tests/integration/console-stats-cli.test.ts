import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeSubscriber, pathOf, pendingSubscriber } from '../support/factories.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness } from '../support/harness.js';

/** `quire stats` and the JSON it reads (GET /admin/v1/overview), against the app served over HTTP. */
describe.each(databaseKinds)('quire stats on %s', (kind) => {
  let h: Harness;
  let server: ReturnType<typeof serve>;
  let base: string;
  beforeAll(async () => {
    h = await createHarness(kind);
    await activeSubscriber(h, { topics: ['release'] });
    await activeSubscriber(h);
    const gone = await activeSubscriber(h);
    await pendingSubscriber(h);
    await h.request(pathOf(gone.unsubscribeUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    await h.seal();
    await new Promise<void>((resolve) => {
      server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await h?.close();
  });

  const quire = (args: string[], token = ADMIN_TOKEN) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const env = { ...process.env, QUIRE_URL: base, ADMIN_TOKEN: token };
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('answers the overview as JSON to the admin token only', async () => {
    expect((await fetch(`${base}/admin/v1/overview`)).status).toBe(401);
    const res = await fetch(`${base}/admin/v1/overview`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const o = (await res.json()) as Record<string, unknown>;
    expect(o).toMatchObject({
      total: 4,
      byStatus: { active: 2, pending: 1, unsubscribed: 1 },
      topics: [
        { slug: 'release', active: 2 },
        { slug: 'updates', active: 1 },
      ],
      growth: { confirmed: 3, unsubscribed: 1 },
      confirmation: { asked: 4, confirmed: 3 },
      ledger: { pending: 0, tail: { ok: true } },
      kept: false,
    });
  });

  it('prints the list at a glance', async () => {
    const r = await quire(['stats']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 waiting for the book, of 4 on the list');
    expect(r.stdout).toMatch(/^ {2}pending\s+1$/m);
    expect(r.stdout).toMatch(/^ {2}Book release\s+2$/m);
    expect(r.stdout).toContain(
      'Last 90 days: 3 confirmed signups, 1 unsubscribes; 3 confirmations for 4 signup requests (75%)',
    );
    expect(r.stdout).toMatch(/^ {2}confirmed {5}\|\s*█\|$/m);
    expect(r.stdout).toContain('No broadcasts yet');
    expect(r.stdout).toMatch(
      /Consent ledger: \d+ events in the chain, 0 waiting to be sealed; the newest \d+ links check out/,
    );
  });

  it('prints the same figures as JSON, and says so when the token is wrong', async () => {
    const json = await quire(['stats', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 4, confirmation: { asked: 4, confirmed: 3 } });
    const denied = await quire(['stats'], 'not-the-admin-token-0123456789');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('Missing or invalid admin token.');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createHarness, type Harness } from '../support/harness.js';

describe('a server started without ADMIN_TOKEN', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('pglite', { ADMIN_TOKEN: '' });
  });
  afterAll(() => h?.close());

  // Guards against "set ADMIN_TOKEN" confusing an author who did set it, in the CLI's shell (item 13).
  it('says the server itself needs ADMIN_TOKEN at its start', async () => {
    const res = await h.request('/admin/v1/stats', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(401);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain('this server was started without ADMIN_TOKEN');
  });
});

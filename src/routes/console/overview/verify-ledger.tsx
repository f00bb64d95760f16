/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { verifyConsentChain } from '../../../core/consent.js';
import { LedgerVerifiedPage } from '../../../pages/console/ledger.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';

/**
 * POST /admin/ledger/verify: seal what is pending, then walk the whole chain, as `quire consent verify`
 * does. A long walk on a large ledger, so it is a button rather than part of every overview.
 */
export function registerVerifyLedger(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/ledger/verify', consoleGuard, async (c) => {
    const s = c.get('services');
    await s.ledger.seal();
    const started = performance.now();
    const result = await verifyConsentChain(s.db);
    return c.html(
      <LedgerVerifiedPage
        bookTitle={s.config.BOOK_TITLE}
        csrf={consoleSession(c).csrf}
        result={result}
        tookMs={Math.round(performance.now() - started)}
      />,
    );
  });
}
